// Step 8, a job with progress: it reports each step to its watcher, runs beside the session, and
// stops when its watcher has gone.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <csignal>

namespace coropush::testing::ladder {
namespace {
namespace asio = boost::asio;
using asio::awaitable;
using client::ws_client;

// Starts a job of `steps` steps and returns its id from the job_started reply.
awaitable<std::string> start_job(ws_client& c, std::uint64_t steps, std::uint64_t id)
{
    boost::json::object const request{{"steps", steps}};
    co_await send_request(c, "job_start", id, request);
    auto const started = co_await expect(c, "job_started");
    require(started.id == id, "the reply carries the job_start's id");
    co_return text_of(started, "job");
}

std::uint64_t number_of(protocol::envelope const& e, std::string_view field)
{
    return e.data.at(field).to_number<std::uint64_t>();
}

TEST(ladder_08_job_progress, a_job_reports_each_step_then_done_to_its_watcher)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-08-job-progress");
        auto client = co_await connect(co_await listening_port(step));
        auto const started = clock::now();
        auto const job = co_await start_job(client, 4, 7);
        for (std::uint64_t n = 1; n <= 4; ++n) {
            auto const progress = co_await expect(client, "job_progress");
            EXPECT_EQ(text_of(progress, "job"), job);
            EXPECT_EQ(number_of(progress, "step"), n);
            EXPECT_EQ(number_of(progress, "percent"), n * 25);
        }
        EXPECT_EQ(text_of(co_await expect(client, "job_done"), "job"), job);
        expect_between(seconds_since(started), 0.38, 5.0, "four steps of 100 ms");
        co_await client.close();
    });
}

// A job of 100 steps (10 s) is running: a hello is answered at once, long before the job is done.
TEST(ladder_08_job_progress, the_session_answers_other_requests_while_its_job_runs)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-08-job-progress");
        auto client = co_await connect(co_await listening_port(step));
        co_await start_job(client, 100, 1);
        co_await send_hello(client, 2);
        for (;;) {
            auto const message = co_await client.receive_envelope();
            require(message.type != "job_done", "the welcome comes before the job is done");
            if (message.type == "welcome") {
                EXPECT_EQ(message.id, 2u);
                break;
            }
            require(message.type == "job_progress", "only progress comes before the welcome");
        }
        co_await client.close();
    });
}

TEST(ladder_08_job_progress, a_job_stops_when_its_watcher_leaves)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-08-job-progress");
        auto client = co_await connect(co_await listening_port(step));
        co_await start_job(client, 100, 1);
        co_await expect(client, "job_progress");
        co_await client.close();
        co_await step.wait_for_line("job 1: stopped, its watcher has gone");
    });
}

TEST(ladder_08_job_progress, a_job_of_too_many_steps_is_refused)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-08-job-progress");
        auto client = co_await connect(co_await listening_port(step));
        boost::json::object const request{{"steps", 1000}};
        co_await send_request(client, "job_start", 3, request);
        auto const error = co_await expect(client, "error");
        EXPECT_EQ(error.id, 3u);
        co_await client.close();
    });
}

// A shutdown does not wait for a long job: the job stops at its next step, when it finds its
// watcher closing, and the process exits 0.
TEST(ladder_08_job_progress, sigterm_stops_a_running_job_and_the_process_exits_0)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-08-job-progress");
        auto client = co_await connect(co_await listening_port(step));
        co_await start_job(client, 100, 1);
        co_await expect(client, "job_progress");
        step.signal(SIGTERM);
        auto in = co_await client.receive();
        while (!in.closed())  // progress queued before the signal still arrives, then the close
            in = co_await client.receive();
        EXPECT_EQ(in.close_code, 1001);
        EXPECT_EQ(co_await step.wait_for_exit(), 0) << step.output();
        EXPECT_NE(step.output().find("job 1: stopped"), std::string::npos) << step.output();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
