// Step 1, one coroutine per connection: why one coroutine cannot answer a second hello while it
// waits for the first one's notice. (every_step_test.cpp checks the seed's exchange on each step.)
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace coropush::testing::ladder {
namespace {
using boost::asio::awaitable;

// The coroutine is asleep on the first notice's timer, so the second hello is read only after the
// notice: its welcome comes a second late, after the first notice.
TEST(ladder_01_one_coroutine, a_second_hello_is_answered_only_after_the_first_notice)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await boost::asio::this_coro::executor, "ladder-01-one-coroutine");
        auto client = co_await connect(co_await listening_port(step));
        auto const sent = clock::now();
        co_await send_hello(client, 1);
        co_await send_hello(client, 2);

        EXPECT_EQ((co_await expect(client, "welcome")).id, 1u);
        co_await expect(client, "notice");
        auto const second_welcome = co_await expect(client, "welcome");
        EXPECT_EQ(second_welcome.id, 2u);
        expect_between(seconds_since(sent), notice_at_least, notice_below, "the second welcome");
        co_await expect(client, "notice");
        co_await client.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
