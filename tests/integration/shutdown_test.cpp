// Graceful shutdown of the real executable: SIGTERM with clients connected delivers what was
// queued, closes every session with 1001, reports not-ready meanwhile, and exits 0; a second
// signal exits at once.
#include "client/ws_client.hpp"
#include "support/child_process.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <csignal>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using client::ws_client;

std::vector<std::string> server_args(std::vector<std::string> extra)
{
    std::vector<std::string> args{"--port", "0", "--web-root", web_directory().string(), "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

TEST(shutdown, sigterm_flushes_queued_messages_then_closes_with_1001_and_exits_0)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        child_process server(executor, coropush_executable(), server_args({"--shutdown-grace", "5s"}));
        auto const port = port_from_log_line(co_await server.wait_for_line("listening on"));

        auto client = co_await ws_client::connect(json(port));
        protocol::subscribe const subscribe{"news"};
        co_await client.send(subscribe, 1);
        auto const subscribed = co_await client.receive_as<protocol::subscribed>();

        // Queue plenty (each publish queues a message and its `published` reply for us), and
        // signal while the server is busy with them.
        constexpr std::uint64_t publishes = 200;
        for (std::uint64_t i = 1; i <= publishes; ++i) {
            protocol::publish const p{"news", "message " + std::to_string(i)};
            co_await client.send(p, i);
        }
        auto const first = co_await client.receive_as<protocol::message>();
        EXPECT_EQ(first.first.text, "message 1");
        server.signal(SIGTERM);

        // What the server queued arrives whole and in order: message i, then published i, for
        // every publish it took before closing; then the close frame, 1001.
        std::uint64_t acknowledged = 0;
        bool expecting_message = false;  // message 1 is already in
        for (;;) {
            auto const in = co_await client.receive();
            if (in.closed()) {
                EXPECT_EQ(in.close_code, 1001);
                break;
            }
            auto envelope = protocol::parse_envelope(in.payload);
            require(envelope.has_value(), "an envelope");
            if (expecting_message) {
                EXPECT_EQ(envelope->type, std::string("message"));
            } else {
                EXPECT_EQ(envelope->type, std::string("published"));
                EXPECT_EQ(envelope->id, acknowledged + 1);
                ++acknowledged;
            }
            expecting_message = !expecting_message;
        }
        EXPECT_TRUE(expecting_message) << "the close came between a message and its reply";
        EXPECT_GE(acknowledged, 1u);
        int const status = co_await server.wait_for_exit();
        EXPECT_EQ(status, 0) << server.output();
        EXPECT_NE(server.output().find("closed: closed by server: 1001 server shutting down"), std::string::npos);
    });
}

TEST(shutdown, readiness_turns_503_while_draining_and_the_grace_period_bounds_it)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        child_process server(executor, coropush_executable(),
                             server_args({"--shutdown-grace", "300ms", "--close-timeout", "10s"}));
        auto const port = port_from_log_line(co_await server.wait_for_line("listening on"));

        // A client that will never answer the close frame keeps the server draining.
        auto stubborn = co_await raw_connection::connect(port);
        auto const reply = co_await stubborn.upgrade("/");
        require(reply.status == 101, "upgrade");
        auto polite = co_await ws_client::connect(json(port));

        server.signal(SIGTERM);
        auto const closed = co_await polite.receive_close();  // the drain has begun
        EXPECT_EQ(closed.close_code, 1001);

        auto probe = co_await raw_connection::connect(port);
        co_await probe.write("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const ready = co_await probe.read_http();
        EXPECT_EQ(ready.status, 503u);
        EXPECT_EQ(ready.body, "shutting down\n");
        EXPECT_EQ(ready.headers.at("connection"), "close");

        int const status = co_await server.wait_for_exit();  // after the 300 ms grace period
        EXPECT_EQ(status, 0) << server.output();
        EXPECT_NE(server.output().find("grace period over"), std::string::npos) << server.output();
    });
}

TEST(shutdown, a_second_signal_exits_at_once)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        child_process server(executor, coropush_executable(),
                             server_args({"--shutdown-grace", "60s", "--close-timeout", "60s"}));
        auto const port = port_from_log_line(co_await server.wait_for_line("listening on"));
        auto stubborn = co_await raw_connection::connect(port);
        auto const reply = co_await stubborn.upgrade("/");
        require(reply.status == 101, "upgrade");

        server.signal(SIGINT);
        co_await server.wait_for_line("shutting down: closing 1 WebSocket session");
        server.signal(SIGINT);
        int const status = co_await server.wait_for_exit();  // long before the 60 s grace period
        EXPECT_EQ(status, 1);
    });
}

TEST(shutdown, bad_command_lines_exit_2_with_a_clear_error)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        child_process bad(executor, coropush_executable(), {"--port", "x"});
        auto const line = co_await bad.wait_for_line("coropush:");
        EXPECT_NE(line.find("bad value 'x' for --port"), std::string::npos) << line;
        int const status = co_await bad.wait_for_exit();
        EXPECT_EQ(status, 2);
    });
}

}  // namespace
}  // namespace coropush::testing
