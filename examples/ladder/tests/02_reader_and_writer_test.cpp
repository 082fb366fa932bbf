// Step 2, a reader and a writer side by side: the reader reads on while a notice is pending.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace coropush::testing::ladder {
namespace {
using boost::asio::awaitable;

// Step 1 answered the second hello only after the first notice; here both welcomes come first.
TEST(ladder_02_reader_and_writer, a_second_hello_is_answered_at_once_while_the_notice_is_pending)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await boost::asio::this_coro::executor, "ladder-02-reader-and-writer");
        auto client = co_await connect(co_await listening_port(step));
        auto const sent = clock::now();
        co_await send_hello(client, 1);
        co_await send_hello(client, 2);

        EXPECT_EQ((co_await expect(client, "welcome")).id, 1u);
        EXPECT_EQ((co_await expect(client, "welcome")).id, 2u);
        co_await expect(client, "notice");
        co_await expect(client, "notice");
        expect_between(seconds_since(sent), notice_at_least, notice_below, "the second notice");
        co_await client.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
