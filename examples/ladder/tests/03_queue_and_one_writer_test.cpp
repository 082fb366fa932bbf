// Step 3, a queue and one writer started on demand: a burst is written whole and in order.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace coropush::testing::ladder {
namespace {
using boost::asio::awaitable;

// A hundred hellos at once: the writer starts with the first welcome, is still writing when the
// next ones are queued, and writes them all in order; the notices come a second later.
TEST(ladder_03_queue_and_one_writer, a_burst_of_hellos_is_answered_in_order_every_welcome_before_any_notice)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await boost::asio::this_coro::executor, "ladder-03-queue-and-one-writer");
        auto client = co_await connect(co_await listening_port(step));
        constexpr std::uint64_t hellos = 100;
        auto const sent = clock::now();
        for (std::uint64_t id = 1; id <= hellos; ++id)
            co_await send_hello(client, id);
        for (std::uint64_t id = 1; id <= hellos; ++id)
            EXPECT_EQ((co_await expect(client, "welcome")).id, id);
        for (std::uint64_t id = 1; id <= hellos; ++id)
            co_await expect(client, "notice");
        expect_between(seconds_since(sent), notice_at_least, notice_below, "the last notice");
        co_await client.close();
    });
}

// A second session is served on its own while the first one waits for its notice.
TEST(ladder_03_queue_and_one_writer, two_sessions_are_served_side_by_side)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await boost::asio::this_coro::executor, "ladder-03-queue-and-one-writer");
        auto const port = co_await listening_port(step);
        auto first = co_await connect(port);
        auto second = co_await connect(port);
        co_await send_hello(first, 1);
        co_await expect(first, "welcome");
        co_await send_hello(second, 1);
        co_await expect(second, "welcome");
        co_await expect(first, "notice");
        co_await expect(second, "notice");
        co_await first.close();
        co_await second.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
