// Step 6, graceful shutdown: SIGTERM closes every session with 1001, and the process exits 0.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <csignal>

namespace coropush::testing::ladder {
namespace {
namespace asio = boost::asio;
using asio::awaitable;

TEST(ladder_06_graceful_shutdown, sigterm_closes_every_session_with_1001_then_the_process_exits_0)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-06-graceful-shutdown");
        auto const port = co_await listening_port(step);
        auto first = co_await connect(port);
        auto second = co_await connect(port);
        co_await step.wait_for_line("session 2: opened");
        step.signal(SIGTERM);

        for (auto* client : {&first, &second}) {
            auto const end = co_await client->receive_close();
            EXPECT_EQ(end.close_code, 1001);
            EXPECT_EQ(end.close_reason, "server shutting down");
        }
        EXPECT_EQ(co_await step.wait_for_exit(), 0) << step.output();
        EXPECT_NE(step.output().find("shut down cleanly"), std::string::npos) << step.output();
    });
}

// The shutdown does not wait for what is only scheduled: the close frame comes before the notice.
TEST(ladder_06_graceful_shutdown, a_pending_notice_does_not_hold_up_the_shutdown)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-06-graceful-shutdown");
        auto client = co_await connect(co_await listening_port(step));
        co_await send_hello(client, 1);
        co_await expect(client, "welcome");
        step.signal(SIGTERM);
        auto const end = co_await client.receive_close();  // throws if the notice comes first
        EXPECT_EQ(end.close_code, 1001);
        EXPECT_EQ(co_await step.wait_for_exit(), 0) << step.output();
    });
}

// A client that does not answer the close frame (it never reads) is dropped at the close
// deadline, and the process still exits 0.
TEST(ladder_06_graceful_shutdown, a_client_that_never_answers_the_close_is_dropped_and_the_process_still_exits)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-06-graceful-shutdown");
        auto client = co_await connect(co_await listening_port(step));
        co_await step.wait_for_line("session 1: opened");
        auto const signalled = clock::now();
        step.signal(SIGTERM);
        co_await step.wait_for_line("session 1: dropped");
        expect_between(seconds_since(signalled), 1.9, 5.0, "the drop");
        EXPECT_EQ(co_await step.wait_for_exit(), 0) << step.output();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
