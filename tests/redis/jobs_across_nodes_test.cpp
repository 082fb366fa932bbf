// Jobs run by a backend, across two nodes and one real redis-server: the backend's calls reach one
// node, the browsers another; watching, gap-free resuming and cancelling work from any node, a
// cancel reaches the backend through any node, a silent backend's job is failed on time, and a
// Redis restart without persistence loses the job (as docs/scaling.md says).
#include "client/ws_client.hpp"
#include "jobs/job.hpp"
#include "redis/cluster.hpp"
#include "support/api_client.hpp"
#include "support/auth_test_tokens.hpp"
#include "support/json_clients.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <limits>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using boost::asio::awaitable;
using client::ws_client;

constexpr char node_key[] = "the nodes' API key in the redis job tests";

void with_api_key(server_options& options, std::size_t)
{
    options.api_key = node_key;
}

awaitable<api_reply> on_node(test_server& node, std::string method, std::string target, std::string body = {})
{
    return call_api(node.port(), node_key, std::move(method), std::move(target), std::move(body));
}

awaitable<api_reply> progress(test_server& node, std::string const& job, int percent)
{
    return on_node(node, "POST", "/api/jobs/" + job + "/progress",
                   R"({"percent":)" + std::to_string(percent) + R"(,"message":"at )" + std::to_string(percent) + "\"}");
}

// Sends job_resume and returns the job_resumed reply.
awaitable<protocol::job_resumed> resume(ws_client& c, std::string const& job, std::uint64_t after_seq, std::uint64_t id)
{
    protocol::job_resume const request{job, after_seq};
    co_await c.send(request, id);
    auto const [resumed, reply_id] = co_await c.receive_as<protocol::job_resumed>();
    require(reply_id == id, "job_resumed carries the request's id");
    co_return resumed;
}

// The next `count` job events must be job_progress with seq first, first+1, ...: no gap, no duplicate.
awaitable<void> expect_progress_from(ws_client& c, std::uint64_t first, std::uint64_t count)
{
    for (auto seq = first; seq < first + count; ++seq) {
        auto const [event, no_id] = co_await c.receive_as<protocol::job_progress>();
        EXPECT_EQ(event.seq, seq);
    }
}

TEST(redis_jobs, a_job_created_on_one_node_is_watched_resumed_and_cancelled_from_another)
{
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            auto& b = c[1];
            auto page = co_await subscriber(b.port(), "user:alice");
            co_await eventually([&] { return channels(b) == 1; }, "B subscribed to the page's topic");
            auto const job = co_await create_backend_job(a.port(), node_key,
                                                         R"({"label":"export","topic":"user:alice","user":"alice"})");
            auto const started = co_await page.receive_as<protocol::message>();
            EXPECT_EQ(*started.first.data, boost::json::parse(R"({"type":"job_started","data":{"job":")" + job +
                                                              R"(","kind":"backend","label":"export"}})"))
                << "the topic hears of the job on the other node";

            // A browser on B watches from the start while the backend reports through A: every
            // event once, in order, whether it came from the stream or live.
            auto watcher = co_await ws_client::connect(json(b.port()));
            auto const posting = [&]() -> awaitable<void> {
                for (int i = 1; i <= 30; ++i)
                    EXPECT_EQ((co_await progress(a, job, i)).status, 200u);
            };
            auto const watching = [&]() -> awaitable<void> {
                auto const resumed = co_await resume(watcher, job, 0, 1);
                EXPECT_LE(resumed.last_seq, 30u);
                co_await expect_progress_from(watcher, 1, 30);
            };
            co_await (posting() && watching());

            // A browser reconnecting to B resumes after what it saw: the rest, then live.
            auto again = co_await ws_client::connect(json(b.port()));
            auto const resumed = co_await resume(again, job, 28, 2);
            EXPECT_EQ(resumed.last_seq, 30u);
            EXPECT_TRUE(resumed.replayed);
            co_await expect_progress_from(again, 29, 2);
            EXPECT_EQ((co_await progress(b, job, 31)).status, 200u) << "the backend may call any node";
            co_await expect_progress_from(again, 31, 1);
            co_await expect_progress_from(watcher, 31, 1);

            // Rules checked in Redis, whichever node is asked.
            auto const lower = co_await progress(b, job, 5);
            EXPECT_EQ(lower.status, 400u);
            EXPECT_EQ(lower.error_code(), "bad_request");

            // Cancelled from B; the backend sees it through A, and ends the job there.
            protocol::job_cancel const cancel{job};
            co_await again.send(cancel, 3);
            auto const [cancelling, cancel_id] = co_await again.receive_as<protocol::job_cancelling>();
            EXPECT_EQ(cancel_id, 3u);
            auto const state = co_await on_node(a, "GET", "/api/jobs/" + job);
            EXPECT_EQ(state.status, 200u);
            EXPECT_EQ(state.body,
                      boost::json::parse(R"({"job":")" + job +
                                         R"(","label":"export","user":"alice","topic":"user:alice",)"
                                         R"("state":"running","percent":31,"seq":31,"cancel_requested":true})"));
            auto const seen = co_await progress(a, job, 40);
            EXPECT_EQ(seen.body.at("cancel_requested"), true);
            auto const failed =
                co_await on_node(a, "POST", "/api/jobs/" + job + "/failed", R"({"reason":"cancelled"})");
            EXPECT_EQ(failed.body, boost::json::parse(R"({"job":")" + job + R"(","seq":33})"));
            for (auto* w : {&watcher, &again}) {
                co_await expect_progress_from(*w, 32, 1);
                auto const [end, no_id] = co_await w->receive_as<protocol::job_failed>();
                EXPECT_EQ(end.seq, 33u);
                EXPECT_EQ(end.reason, "cancelled");
            }
            auto const late = co_await on_node(b, "POST", "/api/jobs/" + job + "/done", R"({"result":"r"})");
            EXPECT_EQ(late.status, 409u);
            EXPECT_EQ(late.error_code(), "job_finished");

            // A finished job is still resumed from any node: its final event.
            auto later = co_await ws_client::connect(json(a.port()));
            auto const final_state = co_await resume(later, job, 32, 4);
            EXPECT_EQ(final_state.last_seq, 33u);
            (void)co_await later.receive_as<protocol::job_failed>();

            // Resumed from past its last event, through Redis: nothing is replayed (a large seq
            // used to reach the stream's range as a number written with an exponent, an error).
            auto past = co_await ws_client::connect(json(b.port()));
            for (std::uint64_t const after :
                 {std::uint64_t{33}, std::uint64_t{1'000'000'000'000'000}, std::numeric_limits<std::uint64_t>::max()}) {
                auto const nothing_more = co_await resume(past, job, after, 5);
                EXPECT_EQ(nothing_more.last_seq, 33u);
                EXPECT_TRUE(nothing_more.replayed);
            }
            auto const last_one = co_await resume(past, job, 32, 6);  // so the three replayed nothing
            EXPECT_EQ(last_one.last_seq, 33u);
            (void)co_await past.receive_as<protocol::job_failed>();
            for (auto* client : {&page, &watcher, &again, &later, &past})
                co_await client->close();
        },
        true, with_api_key);
}

TEST(redis_jobs, a_silent_backends_job_is_failed_by_the_node_that_created_it)
{
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto const job = co_await create_backend_job(c[0].port(), node_key, R"({"label":"l"})");
            auto watcher = co_await ws_client::connect(json(c[1].port()));
            (void)co_await resume(watcher, job, 0, 1);
            auto const [failed, no_id] = co_await watcher.receive_as<protocol::job_failed>();
            EXPECT_EQ(failed.seq, 1u);
            EXPECT_EQ(failed.reason, "abandoned: no word from the backend for 300 ms");
            co_await watcher.close();
        },
        true,
        [](server_options& options, std::size_t i) {
            with_api_key(options, i);
            options.job_retention = 300ms;
        });
}

// The stream keeps at most 256 KiB of a job's events, as a node keeps them in memory: large
// events push the old ones out, and a resume from before them gets the latest (replayed false).
TEST(redis_jobs, large_events_are_kept_within_the_history_byte_budget_in_redis)
{
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto const job = co_await create_backend_job(c[0].port(), node_key, R"({"label":"big"})");
            std::string const large(100'000, 'x');
            for (int percent = 1; percent <= 5; ++percent)
                EXPECT_EQ((co_await on_node(c[0], "POST", "/api/jobs/" + job + "/progress",
                                            R"({"percent":)" + std::to_string(percent) +
                                                R"(,"message":"big","data":")" + large + "\"}"))
                              .status,
                          200u);
            auto from_start = co_await ws_client::connect(json(c[1].port()));
            auto const latest = co_await resume(from_start, job, 0, 1);
            EXPECT_EQ(latest.last_seq, 5u);
            EXPECT_FALSE(latest.replayed) << "the first events are gone";
            auto const [only, no_id] = co_await from_start.receive_as<protocol::job_progress>();
            EXPECT_EQ(only.seq, 5u);
            // Two 100 KB events fit with the latest: resuming after the third replays both.
            auto after_third = co_await ws_client::connect(json(c[1].port()));
            auto const replayed = co_await resume(after_third, job, 3, 2);
            EXPECT_TRUE(replayed.replayed);
            co_await expect_progress_from(after_third, 4, 2);
            for (auto* client : {&from_start, &after_third})
                co_await client->close();
        },
        true, with_api_key);
    static_assert(jobs::job::history_byte_budget / 100'000 == 2, "the test's sizes assume a 256 KiB budget");
}

TEST(redis_jobs, unknown_jobs_and_other_users_jobs_are_refused_from_any_node)
{
    constexpr char token_key[] = "the redis job tests' HS256 secret, over 32 bytes";
    auto const token = [&](std::string const& user) {
        auto const expires = std::chrono::duration_cast<std::chrono::seconds>(
                                 (std::chrono::system_clock::now() + 10min).time_since_epoch())
                                 .count();
        return auth::test_tokens::sign("HS256", token_key,
                                       R"({"sub":")" + user + R"(","exp":)" + std::to_string(expires) + "}");
    };
    with_nodes(
        2,
        [&](cluster& c) -> awaitable<void> {
            auto const unknown = co_await on_node(c[1], "GET", "/api/jobs/0123456789abcdef0123456789abcdef");
            EXPECT_EQ(unknown.status, 404u);
            EXPECT_EQ(unknown.error_code(), "unknown_job");

            auto const job = co_await create_backend_job(c[0].port(), node_key, R"({"label":"l","user":"alice"})");
            for (std::string const user : {"bob", "alice"}) {
                auto browser = co_await ws_client::connect(json(c[1].port()));
                protocol::auth const sign_in{token(user)};
                co_await browser.send(sign_in, 1);
                (void)co_await browser.receive_as<protocol::authenticated>();
                protocol::job_cancel const cancel{user == "bob" ? job : "0123456789abcdef0123456789abcdef"};
                co_await browser.send(cancel, 2);
                auto const [error, error_id] = co_await browser.receive_as<protocol::error>();
                EXPECT_EQ(error.code, user == "bob" ? "forbidden" : "unknown_job");
                EXPECT_EQ(error_id, 2u);
                protocol::job_resume const resume{job, 0};
                co_await browser.send(resume, 3);
                if (user == "bob") {
                    auto const [refused, refused_id] = co_await browser.receive_as<protocol::error>();
                    EXPECT_EQ(refused.code, "forbidden");
                    EXPECT_EQ(refused_id, 3u);
                } else {
                    auto const [resumed, resumed_id] = co_await browser.receive_as<protocol::job_resumed>();
                    EXPECT_EQ(resumed.job, job);
                }
                co_await browser.close();
            }
        },
        true,
        [&](server_options& options, std::size_t i) {
            with_api_key(options, i);
            options.auth = auth::auth_mode::required;
            options.auth_key = token_key;
        });
}

TEST(redis_jobs, a_redis_restart_without_persistence_loses_the_job_and_says_so)
{
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            auto& b = c[1];
            auto const job = co_await create_backend_job(a.port(), node_key, R"({"label":"l"})");
            EXPECT_EQ((co_await progress(a, job, 10)).status, 200u);
            auto watcher = co_await ws_client::connect(json(b.port()));
            (void)co_await resume(watcher, job, 0, 1);
            co_await expect_progress_from(watcher, 1, 1);

            co_await c.redis.kill();
            co_await eventually([&] { return !up(a) && !up(b); }, "both nodes lost redis");
            auto const during = co_await progress(a, job, 20);
            EXPECT_EQ(during.status, 503u) << "the backend retries later";
            EXPECT_EQ(during.error_code(), "unavailable");

            co_await c.redis.start();  // the same port, nothing persisted
            co_await eventually([&] { return up(a) && up(b); }, "both nodes are back");
            auto const after = co_await progress(a, job, 20);
            EXPECT_EQ(after.status, 404u);
            EXPECT_EQ(after.error_code(), "unknown_job");
            // The watcher on B is told, once B's subscriber is back and finds the job gone.
            auto const [gone, no_id] = co_await watcher.receive_as<protocol::error>();
            EXPECT_EQ(gone.code, "unknown_job");
            EXPECT_FALSE(no_id.has_value());
            co_await watcher.close();
        },
        true, with_api_key);
}

TEST(redis_jobs, a_job_survives_a_redis_restart_when_redis_persists_it)
{
    run_client(
        [&]() -> awaitable<void> {
            redis_server redis(co_await boost::asio::this_coro::executor, redis_server::persistence::append_only);
            co_await redis.start();
            auto options = node_options(redis.url());
            options.api_key = node_key;
            test_server a(options);
            test_server b(options);
            co_await eventually([&] { return up(a) && up(b); }, "both nodes reach redis");
            auto const job = co_await create_backend_job(a.port(), node_key, R"({"label":"l"})");
            EXPECT_EQ((co_await progress(a, job, 10)).status, 200u);
            auto watcher = co_await ws_client::connect(json(b.port()));
            (void)co_await resume(watcher, job, 0, 1);
            co_await expect_progress_from(watcher, 1, 1);

            co_await redis.kill();
            co_await eventually([&] { return !up(a) && !up(b); }, "both nodes lost redis");
            EXPECT_EQ((co_await progress(a, job, 20)).status, 503u);
            co_await redis.start();  // the same port; the append-only file brings the job back
            co_await eventually([&] { return up(a) && up(b); }, "both nodes are back");

            auto const after = co_await progress(a, job, 20);
            EXPECT_EQ(after.status, 200u);
            EXPECT_EQ(after.body.at("seq"), 2) << "the refused report during the outage took no seq";
            co_await expect_progress_from(watcher, 2, 1);  // caught up, or live: once either way
            auto const done = co_await on_node(b, "POST", "/api/jobs/" + job + "/done", R"({"result":"r"})");
            EXPECT_EQ(done.body.at("seq"), 3);
            auto const [end, no_id] = co_await watcher.receive_as<protocol::job_done>();
            EXPECT_EQ(end.seq, 3u);
            co_await watcher.close();
        },
        30s);
}

}  // namespace
}  // namespace coropush::testing
