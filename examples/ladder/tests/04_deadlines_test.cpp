// Step 4, timers as deadlines: the notice is still on time, and the handshake and idle limits
// drop a client that does not speak.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

namespace coropush::testing::ladder {
namespace {
namespace asio = boost::asio;
using asio::awaitable;

// A TCP connection that never sends its upgrade request is closed by the server after the
// handshake limit (1 s).
TEST(ladder_04_deadlines, a_connection_that_never_completes_the_handshake_is_dropped_after_a_second)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await asio::this_coro::executor;
        auto step = start_step(executor, "ladder-04-deadlines");
        asio::ip::tcp::endpoint const server(asio::ip::make_address("127.0.0.1"), co_await listening_port(step));
        asio::ip::tcp::socket socket(executor);
        auto const connected = clock::now();
        co_await socket.async_connect(server, asio::use_awaitable);
        char byte = 0;
        auto [ec, read] = co_await socket.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
        EXPECT_TRUE(ec) << "the server sent something instead of closing";
        expect_between(seconds_since(connected), 0.95, 5.0, "the drop");
        EXPECT_NE((co_await step.wait_for_line("dropped")).find("session 1"), std::string::npos);
    });
}

// A WebSocket client that says nothing is dropped after the idle limit (2 s): its connection just
// ends, with no close frame (1006).
TEST(ladder_04_deadlines, a_client_that_says_nothing_is_dropped_after_two_seconds)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-04-deadlines");
        auto client = co_await connect(co_await listening_port(step));
        auto const connected = clock::now();
        auto const end = co_await client.receive_close();
        EXPECT_EQ(end.close_code, 1006);
        expect_between(seconds_since(connected), 1.9, 5.0, "the drop");
    });
}

// Each message gives the client another idle limit: one that says hello every second stays for
// longer than the limit.
TEST(ladder_04_deadlines, a_client_that_keeps_talking_is_not_dropped)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-04-deadlines");
        auto client = co_await connect(co_await listening_port(step));
        auto const connected = clock::now();
        for (std::uint64_t id = 1; id <= 3; ++id)
            co_await check_hello_then_notice(client, id);
        require(seconds_since(connected) > 2.0, "the client has been connected for longer than the idle limit");
        co_await send_hello(client, 4);
        EXPECT_EQ((co_await expect(client, "welcome")).id, 4u);
        co_await client.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
