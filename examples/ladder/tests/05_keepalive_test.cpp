// Step 5, keep-alive: a quiet client is pinged; one that answers stays, one that does not is
// dropped.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

namespace coropush::testing::ladder {
namespace {
namespace asio = boost::asio;
using asio::awaitable;
using namespace asio::experimental::awaitable_operators;

// The client's WebSocket layer answers pings only inside a read, so a client that never reads is
// silent: pinged after 1 s, dropped 1 s later.
TEST(ladder_05_keepalive, a_client_that_does_not_answer_the_ping_is_dropped)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-05-keepalive");
        auto client = co_await connect(co_await listening_port(step));
        auto const connected = clock::now();
        co_await step.wait_for_line("session 1: ping");
        co_await step.wait_for_line("session 1: dropped");
        expect_between(seconds_since(connected), 1.9, 5.0, "the drop");
        EXPECT_EQ(step.output().find("session 1: pong"), std::string::npos) << step.output();
        auto const end = co_await client.receive_close();
        EXPECT_EQ(end.close_code, 1006);
    });
}

// A client with a read pending answers the ping; once the server has heard the pong, the client
// says hello and gets its welcome and notice. The notice comes at least a second after the pong
// was heard, so after the moment a client that had not answered the ping would have been dropped
// (the ping was sent before the pong was heard, and its timeout is a second). That moment is
// measured from the pong, not from the connect: the server starts its ping interval when its side
// of the handshake is done, a little before the client's connect returns.
TEST(ladder_05_keepalive, a_client_that_answers_pings_stays)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-05-keepalive");
        auto client = co_await connect(co_await listening_port(step));
        auto pong_heard = clock::now();
        auto pong_then_hello = [&]() -> awaitable<void> {
            co_await step.wait_for_line("session 1: pong");
            pong_heard = clock::now();
            co_await send_hello(client, 1);
        };
        auto const first = co_await (client.receive() && pong_then_hello());
        auto const welcome = protocol::parse_envelope(first.payload);
        require(welcome && welcome->type == "welcome", "the message read during the ping is the welcome");
        co_await expect(client, "notice");
        expect_between(seconds_since(pong_heard), 1.0, 5.0,
                       "the notice, counted from the pong (past the ping's timeout)");
        co_await send_hello(client, 2);
        EXPECT_EQ((co_await expect(client, "welcome")).id, 2u);
        EXPECT_EQ(step.output().find("dropped"), std::string::npos) << step.output();
        co_await client.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
