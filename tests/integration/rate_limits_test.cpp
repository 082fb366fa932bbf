// Per-client limits: the message rate of a JSON connection (error envelopes, then close 1008) and
// the WebSocket sessions of one address (429, and room again when one ends).
#include "client/ws_client.hpp"
#include "protocol/errc.hpp"
#include "support/json_clients.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

TEST(rate_limit, messages_past_the_burst_are_refused_and_a_client_that_goes_on_is_closed_with_1008)
{
    auto options = test_options();
    options.rate_messages = 1;  // the test's messages take far less than the second a refill needs
    options.rate_burst = 3;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto flooder = co_await ws_client::connect(json(server.port()));
        auto bystander = co_await ws_client::connect(json(server.port()));
        // The burst, three refused (the refusals' own allowance), and one more: the close.
        protocol::echo const flood{"flood"};
        for (std::uint64_t id = 1; id <= 7; ++id)
            co_await flooder.send(flood, id);
        for (std::uint64_t id = 1; id <= 3; ++id) {
            auto const [echo, echo_id] = co_await flooder.receive_as<protocol::echo>();
            EXPECT_EQ(echo_id, id);
        }
        for (int refused = 0; refused < 3; ++refused) {
            auto const [error, error_id] = co_await flooder.receive_as<protocol::error>();
            EXPECT_EQ(error.code, "rate_limited");
            EXPECT_FALSE(error_id.has_value()) << "a refused message is not read, so its id is not known";
        }
        auto const end = co_await flooder.receive_close();
        EXPECT_EQ(end.close_code, 1008);
        EXPECT_EQ(end.close_reason, "rate limit exceeded");

        protocol::echo const calm{"calm"};
        co_await bystander.send(calm, 1);
        auto const [echo, id] = co_await bystander.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "calm");
    });
    server.stop();
    EXPECT_EQ(server.metrics().rate_limited_messages.load(), 4u);
    EXPECT_EQ(server.metrics().rate_limit_closes.load(), 1u);
    EXPECT_EQ(server.metrics().error_envelopes(protocol::errc::rate_limited), 3u);
}

TEST(rate_limit, zero_turns_the_limit_off)
{
    auto options = test_options();
    options.rate_messages = 0;
    options.rate_burst = 1;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        protocol::echo const fast{"fast"};
        for (std::uint64_t id = 1; id <= 50; ++id)
            co_await c.send(fast, id);
        for (std::uint64_t id = 1; id <= 50; ++id) {
            auto const [echo, echo_id] = co_await c.receive_as<protocol::echo>();
            EXPECT_EQ(echo_id, id);
        }
    });
}

TEST(connections_per_ip, an_upgrade_past_the_cap_gets_429_and_a_session_that_ends_makes_room)
{
    auto options = test_options();
    options.max_connections_per_ip = 2;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto first = co_await ws_client::connect(json(server.port()));
        auto second = co_await ws_client::connect(plain(server.port()));  // every dialect counts
        try {
            co_await ws_client::connect(json(server.port()));
            ADD_FAILURE() << "a third session from 127.0.0.1 was accepted";
        } catch (client::handshake_rejected const& e) {
            EXPECT_EQ(e.status, 429u);
            EXPECT_EQ(e.body, "too many connections from this address\n");
        }
        co_await first.close();
        // The slot is released when the session has ended on the server, which the client cannot
        // see: the server's session count says so.
        co_await eventually([&] { return server.get().websocket_sessions() == 1; }, "the first session ended");
        auto third = co_await ws_client::connect(json(server.port()));
        protocol::echo const in{"in"};
        co_await third.send(in, 1);
        auto const [echo, id] = co_await third.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "in");
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::too_many_from_address), 1u);
}

}  // namespace
}  // namespace coropush::testing
