// Jobs end to end: progress in order, done and failed, cancel, resume after a reconnect, the job
// outliving its connection, retention, limits, and coalescing under a slow reader.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <string>
#include <vector>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

protocol::job_start job(std::uint32_t steps, std::uint32_t step_ms, std::string kind = "sample")
{
    return protocol::job_start{std::move(kind), steps, step_ms, std::string("test"), std::nullopt};
}

awaitable<std::string> start(ws_client& c, protocol::job_start const& request, std::uint64_t id)
{
    return start_job(c, request, id);
}

TEST(jobs, progress_comes_in_order_and_ends_with_job_done)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        auto const request = job(5, 1);
        co_await c.send(request, 7);
        auto const [started, id] = co_await c.receive_as<protocol::job_started>();
        EXPECT_EQ(id, 7u);
        EXPECT_EQ(started.job.size(), 32u);
        EXPECT_EQ(started.kind, "sample");
        EXPECT_EQ(started.steps, 5u);
        EXPECT_EQ(started.label, "test");
        std::uint32_t last_percent = 0;
        for (std::uint64_t seq = 1; seq <= 5; ++seq) {
            auto const [progress, no_id] = co_await c.receive_as<protocol::job_progress>();
            EXPECT_FALSE(no_id.has_value());
            EXPECT_EQ(progress.job, started.job);
            EXPECT_EQ(progress.seq, seq);
            EXPECT_GE(progress.percent, last_percent);
            last_percent = progress.percent;
            EXPECT_EQ(progress.message, "step " + std::to_string(seq) + " of 5");
        }
        EXPECT_EQ(last_percent, 100u);
        auto const [done, done_id] = co_await c.receive_as<protocol::job_done>();
        EXPECT_EQ(done.seq, 6u);
        EXPECT_EQ(done.result, "finished 5 steps");
        co_await c.close();
    });
}

TEST(jobs, the_failing_kind_ends_with_job_failed)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        auto const job_id = co_await start(c, job(4, 1, "failing"), 1);
        for (std::uint64_t seq = 1; seq <= 2; ++seq) {
            auto const progress = co_await c.receive_as<protocol::job_progress>();
            EXPECT_EQ(progress.first.seq, seq);
        }
        auto const [failed, id] = co_await c.receive_as<protocol::job_failed>();
        EXPECT_EQ(failed.job, job_id);
        EXPECT_EQ(failed.seq, 3u);
        EXPECT_EQ(failed.reason, "step 3 failed (demonstration)");
        co_await c.close();
    });
}

TEST(jobs, cancel_answers_then_the_job_fails_as_cancelled_and_cannot_be_cancelled_again)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        auto const job_id = co_await start(c, job(1000, 20), 1);
        auto const first = co_await c.receive_as<protocol::job_progress>();
        protocol::job_cancel const cancel{job_id};
        co_await c.send(cancel, 2);
        // Progress already queued may come first; then the reply, then the end.
        for (;;) {
            auto const envelope = co_await c.receive_envelope();
            if (envelope.type == protocol::job_progress::type)
                continue;
            EXPECT_EQ(envelope.type, std::string(protocol::job_cancelling::type));
            EXPECT_EQ(envelope.id, 2u);
            break;
        }
        auto const [failed, no_id] = co_await c.receive_as<protocol::job_failed>();
        EXPECT_EQ(failed.reason, "cancelled");
        co_await c.send(cancel, 3);
        auto const [again, again_id] = co_await c.receive_as<protocol::error>();
        EXPECT_EQ(again.code, "job_finished");
        EXPECT_EQ(again_id, 3u);
        co_await c.close();
    });
}

TEST(jobs, unknown_job_ids_are_errors)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        protocol::job_cancel const cancel{"0123456789abcdef0123456789abcdef"};
        co_await c.send(cancel, 1);
        auto const cancel_error = co_await c.receive_as<protocol::error>();
        EXPECT_EQ(cancel_error.first.code, "unknown_job");
        protocol::job_resume const resume{"nope", 0};
        co_await c.send(resume, 2);
        auto const resume_error = co_await c.receive_as<protocol::error>();
        EXPECT_EQ(resume_error.first.code, "unknown_job");
        EXPECT_EQ(resume_error.second, 2u);
        // What is not a job id is not echoed back: a client's string of any length.
        protocol::job_resume const long_id{std::string(10'000, 'x'), 0};
        co_await c.send(long_id, 3);
        auto const long_error = co_await c.receive_as<protocol::error>();
        EXPECT_EQ(long_error.first.code, "unknown_job");
        EXPECT_EQ(long_error.first.message.find("xxx"), std::string::npos) << long_error.first.message;
        co_await c.close();
    });
}

TEST(jobs, a_job_goes_on_when_its_connection_drops_and_resume_replays_exactly_what_was_missed)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        std::string job_id;
        std::uint64_t seen = 0;
        {
            auto first = co_await ws_client::connect(json(server.port()));
            job_id = co_await start(first, job(30, 10), 1);
            for (int i = 0; i < 3; ++i) {
                auto const progress = co_await first.receive_as<protocol::job_progress>();
                seen = progress.first.seq;
            }
        }  // dropped without a close handshake, mid-job
        auto second = co_await ws_client::connect(json(server.port()));
        protocol::job_resume const resume{job_id, seen};
        co_await second.send(resume, 5);
        auto const [resumed, id] = co_await second.receive_as<protocol::job_resumed>();
        EXPECT_EQ(id, 5u);
        EXPECT_EQ(resumed.job, job_id);
        EXPECT_TRUE(resumed.replayed);
        EXPECT_GE(resumed.last_seq, seen);
        // Every event after `seen`, each once, in order: the replay, then the live stream.
        std::uint64_t expected = seen + 1;
        for (;;) {
            auto const envelope = co_await second.receive_envelope();
            if (envelope.type == protocol::job_done::type) {
                auto const done = std::get<protocol::job_done>(protocol::data_as<protocol::job_done>(envelope));
                EXPECT_EQ(done.seq, expected);
                EXPECT_EQ(done.seq, 31u);
                break;
            }
            auto const progress = std::get<protocol::job_progress>(protocol::data_as<protocol::job_progress>(envelope));
            EXPECT_EQ(progress.seq, expected);
            expected = progress.seq + 1;
        }
        co_await second.close();
    });
}

// The reply to a job_start can be lost with its connection. Asked again with the same key, the
// start is answered with the job it started, and the events from the first on, each once and in
// order, as the first answer would have been; it starts nothing and counts against no limit.
TEST(jobs, a_start_asked_again_with_its_key_gets_the_job_it_started_and_every_event_from_the_first)
{
    auto options = test_options();
    options.max_jobs_per_connection = 1;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        std::string const key = "4f1d0c2e-9b7a-4e3c-8d6b-2a4e7c91f08b";
        auto keyed = job(3, 20);
        keyed.key = key;
        std::string job_id;
        {
            auto first = co_await ws_client::connect(json(server.port()));
            job_id = co_await start(first, keyed, 1);
            co_await first.receive_as<protocol::job_progress>();
        }  // dropped mid-job
        auto second = co_await ws_client::connect(json(server.port()));
        co_await start(second, job(1000, 60'000), 1);  // its one running job, silent for a minute
        auto other_fields = job(7, 1);
        other_fields.label = "other";
        other_fields.key = key;
        // Twice: while the job runs, or just after; and once it has ended, from its history.
        for (std::uint64_t const request : {std::uint64_t{2}, std::uint64_t{3}}) {
            co_await second.send(other_fields, request);
            auto const [started, id] = co_await second.receive_as<protocol::job_started>();
            EXPECT_EQ(id, request);
            EXPECT_EQ(started.job, job_id);
            EXPECT_EQ(started.steps, 3u);
            EXPECT_EQ(started.label, "test");
            for (std::uint64_t seq = 1; seq <= 3; ++seq) {
                auto const [progress, no_id] = co_await second.receive_as<protocol::job_progress>();
                EXPECT_EQ(progress.job, job_id);
                EXPECT_EQ(progress.seq, seq);
            }
            auto const [done, no_id] = co_await second.receive_as<protocol::job_done>();
            EXPECT_EQ(done.job, job_id);
            EXPECT_EQ(done.seq, 4u);
        }
        // Another key is another job (one silent for a minute: nothing of it comes between the
        // refusals below); and a key that is not one is refused.
        auto third = co_await ws_client::connect(json(server.port()));
        auto another = job(1000, 60'000);
        another.key = "another-key-0123456789";
        EXPECT_NE(co_await start(third, another, 1), job_id);
        std::array<std::string, 3> const bad_keys{"short", "has a space in it, 0123456789", std::string(65, 'k')};
        for (auto const& bad : bad_keys) {
            keyed.key = bad;
            co_await third.send(keyed, 2);
            auto const [refused, id] = co_await third.receive_as<protocol::error>();
            EXPECT_EQ(refused.code, "bad_data");
            EXPECT_EQ(refused.message, "data.key must be 16 to 64 letters, digits, '-' or '_'");
        }
        co_await second.close();
        co_await third.close();
    });
}

TEST(jobs, a_finished_job_can_be_resumed_within_retention_and_is_forgotten_after)
{
    auto options = test_options();
    options.job_retention = 300ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        auto keyed = job(2, 1);
        keyed.key = "a-key-forgotten-with-its-job";
        auto const job_id = co_await start(c, keyed, 1);
        for (int i = 0; i < 2; ++i)
            co_await c.receive_as<protocol::job_progress>();
        auto const done = co_await c.receive_as<protocol::job_done>();
        protocol::job_resume const resume{job_id, 0};
        co_await c.send(resume, 2);
        auto const resumed = co_await c.receive_as<protocol::job_resumed>();
        EXPECT_EQ(resumed.first.last_seq, 3u);
        for (std::uint64_t seq = 1; seq <= 2; ++seq) {
            auto const progress = co_await c.receive_as<protocol::job_progress>();
            EXPECT_EQ(progress.first.seq, seq);
        }
        auto const again = co_await c.receive_as<protocol::job_done>();
        EXPECT_EQ(again.first.seq, done.first.seq);
        // After the retention time the job is gone: ask until it is (the event), within the deadline.
        for (std::uint64_t id = 3;; ++id) {
            co_await c.send(resume, id);
            auto const envelope = co_await c.receive_envelope();
            if (envelope.type == protocol::error::type) {
                auto const error = std::get<protocol::error>(protocol::data_as<protocol::error>(envelope));
                EXPECT_EQ(error.code, "unknown_job");
                break;
            }
            // Still retained: drain the replay (resumed, two progress, done) and ask again.
            for (int i = 0; i < 3; ++i)
                co_await c.receive_envelope();
        }
        // Its key went with it: the same start is a new job.
        EXPECT_NE(co_await start(c, keyed, 100), job_id);
        co_await c.close();
    });
}

// A resume from past the last event replays nothing (2^64-1, plus one, once wrapped to zero, and
// the last event was replayed).
TEST(jobs, a_resume_past_the_last_event_replays_nothing)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        auto const job_id = co_await start(c, job(2, 1), 1);
        for (int i = 0; i < 2; ++i)
            co_await c.receive_as<protocol::job_progress>();
        co_await c.receive_as<protocol::job_done>();
        for (std::uint64_t const after :
             {std::uint64_t{3}, std::uint64_t{1000}, std::numeric_limits<std::uint64_t>::max()}) {
            protocol::job_resume const past{job_id, after};
            co_await c.send(past, 2);
            auto const resumed = co_await c.receive_as<protocol::job_resumed>();
            EXPECT_EQ(resumed.first.last_seq, 3u);
            EXPECT_TRUE(resumed.first.replayed);
        }
        protocol::job_resume const last_one{job_id, 2};
        co_await c.send(last_one, 3);
        auto const resumed = co_await c.receive_as<protocol::job_resumed>();  // so the three replayed nothing
        EXPECT_EQ(resumed.second, 3u);
        co_await c.receive_as<protocol::job_done>();
        co_await c.close();
    });
}

TEST(jobs, limits_per_connection_and_in_total_and_bad_requests)
{
    auto options = test_options();
    options.max_jobs_per_connection = 2;
    options.max_jobs_total = 3;
    options.max_job_steps = 50;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto a = co_await ws_client::connect(json(server.port()));
        auto b = co_await ws_client::connect(json(server.port()));
        auto const slow = job(50, 1000);
        co_await start(a, slow, 1);
        co_await start(a, slow, 2);
        co_await a.send(slow, 3);
        auto const per_connection = co_await a.receive_as<protocol::error>();
        EXPECT_EQ(per_connection.first.code, "too_many_jobs");
        co_await start(b, slow, 1);
        co_await b.send(slow, 2);
        auto const total = co_await b.receive_as<protocol::error>();
        EXPECT_EQ(total.first.code, "too_many_jobs");

        auto const too_many_steps = job(51, 1);
        co_await b.send(too_many_steps, 3);
        auto const steps_error = co_await b.receive_as<protocol::error>();
        EXPECT_EQ(steps_error.first.code, "bad_data");
        auto const zero = job(0, 1);
        co_await b.send(zero, 4);
        auto const zero_error = co_await b.receive_as<protocol::error>();
        EXPECT_EQ(zero_error.first.code, "bad_data");
        auto const long_step = job(1, 60001);
        co_await b.send(long_step, 5);
        auto const step_error = co_await b.receive_as<protocol::error>();
        EXPECT_EQ(step_error.first.code, "bad_data");
        co_await a.close();
        co_await b.close();
    });
}

// A start that names no steps gets 10, or the server's limit when that is lower: the default is
// never refused as a value the client did not send.
TEST(jobs, a_start_without_steps_gets_ten_or_the_limit_when_it_is_lower)
{
    auto options = test_options();
    options.max_job_steps = 5;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        protocol::job_start const no_steps{std::nullopt, std::nullopt, 60'000, std::nullopt, std::nullopt};
        co_await c.send(no_steps, 1);
        auto const [started, id] = co_await c.receive_as<protocol::job_started>();
        EXPECT_EQ(started.steps, 5u);
        co_await c.close();
    });
}

// A full table forgets the finished job that ended first, not whichever comes first in it: one that
// has just ended is the one a reconnecting client is about to resume.
TEST(jobs, a_full_table_forgets_the_job_that_ended_first)
{
    auto options = test_options();
    options.max_jobs_total = 3;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        std::uint64_t request = 1;
        auto run_one = [&]() -> awaitable<std::string> {
            auto const job_id = co_await start(c, job(1, 0), request++);
            co_await c.receive_as<protocol::job_progress>();
            co_await c.receive_as<protocol::job_done>();
            co_return job_id;
        };
        auto is_kept = [&](std::string const& job_id) -> awaitable<bool> {
            protocol::job_resume const resume{job_id, 1};  // after its progress: replays the done
            co_await c.send(resume, request++);
            auto const envelope = co_await c.receive_envelope();
            if (envelope.type == protocol::error::type)
                co_return false;
            co_await c.receive_as<protocol::job_done>();
            co_return true;
        };
        std::vector<std::string> ended;  // in the order they ended
        ended.reserve(6);
        for (int i = 0; i < 3; ++i)
            ended.push_back(co_await run_one());
        for (int i = 0; i < 3; ++i) {
            ended.push_back(co_await run_one());  // the table is full: one makes room
            EXPECT_FALSE(co_await is_kept(ended[static_cast<std::size_t>(i)])) << "job " << i;
            for (auto k = static_cast<std::size_t>(i) + 1; k < ended.size(); ++k)
                EXPECT_TRUE(co_await is_kept(ended[k])) << "job " << k << " after job " << i + 3;
        }
        co_await c.close();
    });
}

TEST(jobs, progress_coalesces_for_a_slow_reader_instead_of_closing_it)
{
    auto options = test_options();
    options.max_queue_messages = 8;
    options.max_queue_bytes = 4096;
    options.max_job_steps = 50'000;  // ~5 MB of progress: more than the kernel's socket buffers hold
    test_server server(options);
    run_client(
        [&]() -> awaitable<void> {
            // A reader whose socket takes almost nothing until it starts reading.
            auto c = co_await raw_connection::connect(server.port(), 4096);
            auto const reply = co_await c.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
            require(reply.status == 101, "upgrade");
            co_await c.write(
                raw_connection::frame(1, R"({"type":"job_start","id":1,"data":{"steps":50000,"step_ms":0}})"));
            auto const started_frame = co_await c.read_frame();  // job_started, then this client stops reading
            auto const started = protocol::parse_envelope(started_frame.payload);
            require(started.has_value() && started->type == "job_started", "job_started");
            auto const job_id = std::string(started->data.at("job").as_string());

            // A second client follows the same job to its end: the event that says the slow client's
            // queue has received everything it will get.
            auto watcher = co_await ws_client::connect(json(server.port()));
            protocol::job_resume const follow{job_id, 1'000'000};
            co_await watcher.send(follow, 1);
            for (;;) {
                auto const envelope = co_await watcher.receive_envelope();
                if (envelope.type == protocol::job_done::type)
                    break;
            }
            co_await watcher.close();

            std::uint64_t last_seq = 0;
            std::size_t progress_events = 0;
            bool done = false;
            while (!done) {
                auto const frame = co_await c.read_frame();
                if (frame.opcode != 1)
                    continue;  // pongs
                auto const envelope = protocol::parse_envelope(frame.payload);
                require(envelope.has_value(), "an envelope");
                auto const seq = envelope->data.at("seq").to_number<std::uint64_t>();
                EXPECT_GT(seq, last_seq) << "events stay in order";
                last_seq = seq;
                done = envelope->type == "job_done";
                if (!done)
                    ++progress_events;
            }
            EXPECT_EQ(last_seq, 50'001u);
            EXPECT_LT(progress_events, 50'000u) << "some progress was coalesced away";
        },
        std::chrono::seconds(45));  // 50 000 steps take a while under the sanitizers; below ctest's 60 s
    server.stop();
    EXPECT_GT(server.metrics().coalesced_updates.load(), 0u);
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 0u);
}

}  // namespace
}  // namespace coropush::testing
