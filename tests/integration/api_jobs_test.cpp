// Jobs run by a backend, over real sockets: the backend creates a job and reports on it through the
// server API, a browser watches, resumes and cancels it over WebSocket, a page subscribed to the
// job's topic hears of it; every error status; a silent backend's job is failed; ownership under
// --auth required.
#include "client/ws_client.hpp"
#include "support/api_client.hpp"
#include "support/auth_test_tokens.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

constexpr char backend_key[] = "the backend's key for the job tests";

server_options backend_job_options()
{
    auto o = test_options();
    o.api_key = backend_key;
    return o;
}

awaitable<api_reply> ask_backend(std::uint16_t port, std::string method, std::string target, std::string body = {})
{
    return call_api(port, backend_key, std::move(method), std::move(target), std::move(body));
}

// The next envelope must be of `type`: returns its data.
awaitable<boost::json::object> next_of_type(ws_client& c, std::string_view type)
{
    auto envelope = co_await c.receive_envelope();
    require(envelope.type == type, "the expected message type");
    co_return std::move(envelope.data);
}

TEST(backend_jobs, a_browser_watches_resumes_and_cancels_and_the_backend_sees_the_cancel)
{
    test_server server(backend_job_options());
    run_client([&]() -> awaitable<void> {
        auto const port = server.port();
        auto page = co_await subscriber(port, "user:alice");
        auto const job =
            co_await create_backend_job(port, backend_key, R"({"label":"export","topic":"user:alice","user":"alice"})");

        // The page learns of the job from its topic, with the job's id, and resumes it from the start.
        auto const heard = co_await page.receive_as<protocol::message>();
        require(heard.first.data.has_value(), "the topic message has data");
        EXPECT_EQ(*heard.first.data, boost::json::parse(R"({"type":"job_started","data":{"job":")" + job +
                                                        R"(","kind":"backend","label":"export"}})"));
        auto browser = co_await ws_client::connect(json(port));
        protocol::job_resume const resume{job, 0};
        co_await browser.send(resume, 1);
        auto const [resumed, resumed_id] = co_await browser.receive_as<protocol::job_resumed>();
        EXPECT_EQ(resumed_id, 1u);
        EXPECT_EQ(resumed.last_seq, 0u);

        auto const progress = co_await ask_backend(port, "POST", "/api/jobs/" + job + "/progress",
                                                   R"({"percent":25,"message":"a quarter","data":{"rows":250}})");
        EXPECT_EQ(progress.status, 200u);
        EXPECT_EQ(progress.body, boost::json::parse(R"({"job":")" + job + R"(","seq":1,"cancel_requested":false})"));
        auto const [event, no_id] = co_await browser.receive_as<protocol::job_progress>();
        EXPECT_EQ(event.seq, 1u);
        EXPECT_EQ(event.percent, 25u);
        EXPECT_EQ(event.message, "a quarter");
        EXPECT_EQ(event.data, boost::json::parse(R"({"rows":250})"));
        auto const echoed = co_await page.receive_as<protocol::message>();
        EXPECT_EQ(echoed.first.data->at("type"), "job_progress");

        // A reconnecting browser resumes after what it saw; then it cancels.
        auto again = co_await ws_client::connect(json(port));
        protocol::job_resume const after_one{job, 1};
        co_await again.send(after_one, 2);
        auto const [second_resume, second_id] = co_await again.receive_as<protocol::job_resumed>();
        EXPECT_EQ(second_resume.last_seq, 1u);
        protocol::job_cancel const cancel{job};
        co_await again.send(cancel, 3);
        auto const [cancelling, cancel_id] = co_await again.receive_as<protocol::job_cancelling>();
        EXPECT_EQ(cancel_id, 3u);

        auto const state = co_await ask_backend(port, "GET", "/api/jobs/" + job);
        EXPECT_EQ(state.status, 200u);
        EXPECT_EQ(state.body, boost::json::parse(R"({"job":")" + job +
                                                 R"(","label":"export","user":"alice","topic":"user:alice",)"
                                                 R"("state":"running","percent":25,"seq":1,"cancel_requested":true})"));
        auto const seen = co_await ask_backend(port, "POST", "/api/jobs/" + job + "/progress",
                                               R"({"percent":30,"message":"stopping"})");
        EXPECT_EQ(seen.body.at("cancel_requested"), true);
        auto const failed =
            co_await ask_backend(port, "POST", "/api/jobs/" + job + "/failed", R"({"reason":"cancelled"})");
        EXPECT_EQ(failed.status, 200u);
        EXPECT_EQ(failed.body, boost::json::parse(R"({"job":")" + job + R"(","seq":3})"));
        for (auto* watcher : {&browser, &again}) {
            (void)co_await next_of_type(*watcher, "job_progress");
            auto const end = co_await next_of_type(*watcher, "job_failed");
            EXPECT_EQ(end.at("seq"), 3);
            EXPECT_EQ(end.at("reason"), "cancelled");
        }

        auto const late = co_await ask_backend(port, "POST", "/api/jobs/" + job + "/done", R"({"result":"x"})");
        EXPECT_EQ(late.status, 409u);
        EXPECT_EQ(late.error_code(), "job_finished");
        for (auto* c : {&page, &browser, &again})
            co_await c->close();
    });
    EXPECT_EQ(server.metrics().backend_jobs_created.load(), 1u);
    EXPECT_EQ(server.metrics().api_answers(201), 1u);
    EXPECT_EQ(server.metrics().api_answers(409), 1u);
}

TEST(backend_jobs, every_job_error_has_its_status_and_code)
{
    test_server server(backend_job_options());
    run_client([&]() -> awaitable<void> {
        auto const port = server.port();
        auto const job = co_await create_backend_job(port, backend_key, R"({"label":"l"})");
        EXPECT_EQ(
            (co_await ask_backend(port, "POST", "/api/jobs/" + job + "/progress", R"({"percent":60,"message":"m"})"))
                .status,
            200u);

        struct error_case {
            std::string method;
            std::string target;
            std::string body;
            unsigned status;
            std::string code;
        };
        std::vector<error_case> const cases{
            {"POST", "/api/jobs/" + job + "/progress", R"({"percent":59,"message":"back"})", 400, "bad_request"},
            {"POST", "/api/jobs/" + job + "/progress", R"({"percent":101,"message":"m"})", 400, "bad_request"},
            {"POST", "/api/jobs/" + job + "/progress", R"({"percent":61.0,"message":"m"})", 400, "bad_request"},
            {"POST", "/api/jobs", R"({"topic":"t"})", 400, "bad_request"},
            {"POST", "/api/jobs", R"({"label":"l","user":")" + std::string(257, 'u') + R"("})", 400, "bad_request"},
            {"POST", "/api/jobs", "{", 400, "bad_json"},
            {"GET", "/api/jobs/00000000000000000000000000000000", "", 404, "unknown_job"},
            {"POST", "/api/jobs/00000000000000000000000000000000/done", R"({"result":"r"})", 404, "unknown_job"},
            {"GET", "/api/jobs", "", 405, "method_not_allowed"},
            {"POST", "/api/jobs/" + job, "{}", 405, "method_not_allowed"},
        };
        for (auto const& c : cases) {
            auto const reply = co_await ask_backend(port, c.method, c.target, c.body);
            EXPECT_EQ(reply.status, c.status) << c.method << " " << c.target << " " << c.body;
            EXPECT_EQ(reply.error_code(), c.code) << c.method << " " << c.target << " " << c.body;
            if (c.status == 405) {
                EXPECT_EQ(reply.headers.at("allow"), c.method == "GET" ? "POST" : "GET, HEAD");
            }
        }
        auto const state = co_await ask_backend(port, "GET", "/api/jobs/" + job);
        EXPECT_EQ(state.body.at("percent"), 60);
        EXPECT_EQ(state.body.at("seq"), 1);
    });
}

// RFC 9110 9.3.2: where GET is answered, HEAD is too, with the header alone (a body would be read
// as the next response's start: the GET behind it is answered right after).
TEST(backend_jobs, a_jobs_status_answers_head_with_the_header_a_get_gets)
{
    test_server server(backend_job_options());
    run_client([&]() -> awaitable<void> {
        auto const job = co_await create_backend_job(server.port(), backend_key, R"({"label":"l"})");
        std::string const ask = " /api/jobs/" + job + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                std::string(backend_key) + "\r\n\r\n";
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write("HEAD" + ask + "GET" + ask);
        auto const head = co_await connection.read_http(true);
        auto const get = co_await connection.read_http();
        EXPECT_EQ(head.status, 200u);
        EXPECT_EQ(get.status, 200u);
        EXPECT_EQ(head.headers.at("content-length"), std::to_string(get.body.size()));
        EXPECT_EQ(boost::json::parse(get.body).at("state"), "running");
    });
}

TEST(backend_jobs, a_job_whose_backend_goes_silent_is_failed_as_abandoned)
{
    auto options = backend_job_options();
    options.job_retention = 100ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto const port = server.port();
        auto const job = co_await create_backend_job(port, backend_key, R"({"label":"l"})");
        auto browser = co_await ws_client::connect(json(port));
        protocol::job_resume const resume{job, 0};
        co_await browser.send(resume, 1);
        (void)co_await browser.receive_as<protocol::job_resumed>();
        auto const [failed, no_id] = co_await browser.receive_as<protocol::job_failed>();  // 100 ms of silence
        EXPECT_EQ(failed.seq, 1u);
        EXPECT_EQ(failed.reason, "abandoned: no word from the backend for 100 ms");
        co_await browser.close();
    });
    EXPECT_EQ(server.metrics().backend_jobs_abandoned.load(), 1u);
}

TEST(backend_jobs, under_auth_only_the_jobs_user_may_resume_or_cancel_it)
{
    constexpr char token_secret[] = "the backend job tests' HS256 secret, over 32 bytes";
    auto options = backend_job_options();
    options.auth = auth::auth_mode::required;
    options.auth_key = token_secret;
    test_server server(options);
    auto const expires =
        std::chrono::duration_cast<std::chrono::seconds>((std::chrono::system_clock::now() + 10min).time_since_epoch())
            .count();
    auto const token = [&](std::string const& user) {
        return auth::test_tokens::sign("HS256", token_secret,
                                       R"({"sub":")" + user + R"(","exp":)" + std::to_string(expires) + "}");
    };
    run_client([&]() -> awaitable<void> {
        auto const port = server.port();
        auto const job = co_await create_backend_job(port, backend_key, R"({"label":"l","user":"alice"})");
        for (std::string const user : {"bob", "alice"}) {
            auto c = co_await ws_client::connect(json(port));
            protocol::auth const sign_in{token(user)};
            co_await c.send(sign_in, 1);
            (void)co_await c.receive_as<protocol::authenticated>();
            protocol::job_resume const resume{job, 0};
            co_await c.send(resume, 2);
            protocol::job_cancel const cancel{job};
            co_await c.send(cancel, 3);
            if (user == "bob") {
                for (std::uint64_t id : {2u, 3u}) {
                    auto const [error, error_id] = co_await c.receive_as<protocol::error>();
                    EXPECT_EQ(error.code, "forbidden");
                    EXPECT_EQ(error_id, id);
                }
            } else {
                (void)co_await c.receive_as<protocol::job_resumed>();
                (void)co_await c.receive_as<protocol::job_cancelling>();
            }
            co_await c.close();
        }
        auto const state = co_await ask_backend(port, "GET", "/api/jobs/" + job);
        EXPECT_EQ(state.body.at("cancel_requested"), true);
    });
}

}  // namespace
}  // namespace coropush::testing
