// Graceful shutdown of the real executable: SIGTERM with clients connected delivers what was
// queued, closes every session with 1001, reports not-ready meanwhile, and exits 0; a second
// signal exits at once. And the executable's start: it raises its limit on open files.
#include "client/ws_client.hpp"
#include "support/child_process.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <fstream>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using namespace std::chrono_literals;
using client::ws_client;

std::vector<std::string> server_args(std::vector<std::string> extra)
{
    std::vector<std::string> args{"--port", "0", "--web-root", web_directory().string(), "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

TEST(shutdown, sigterm_flushes_every_queued_message_in_order_then_closes_with_1001_and_exits_0)
{
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        // (No rate limit: the publisher sends its 200 messages as fast as the acks come.)
        child_process server(executor, coropush_executable(),
                             server_args({"--shutdown-grace", "5s", "--rate-messages", "0"}));
        auto const port = port_from_log_line(co_await server.wait_for_line("listening on"));

        // The subscriber reads nothing until the signal has been sent; the publisher's acks say
        // that every message was queued for it (delivered == 1) before the signal.
        auto reader = co_await subscriber(port, "news");
        auto publisher = co_await ws_client::connect(json(port));
        constexpr std::uint64_t messages = 200;
        for (std::uint64_t i = 1; i <= messages; ++i) {
            auto const delivered = co_await publish(publisher, "news", "message " + std::to_string(i), i);
            require(delivered == 1, "queued for the subscriber");
        }
        server.signal(SIGTERM);

        for (std::uint64_t i = 1; i <= messages; ++i)
            EXPECT_EQ(co_await next_text(reader), "message " + std::to_string(i));
        auto const end = co_await reader.receive_close();
        EXPECT_EQ(end.close_code, 1001);
        EXPECT_EQ(end.close_reason, "server shutting down");
        int const status = co_await server.wait_for_exit();
        EXPECT_EQ(status, 0) << server.output();
        EXPECT_NE(server.output().find("closed: closed by server: 1001 server shutting down"), std::string::npos);
    });
}

// Flushing and the closing handshake have a budget each: a reader slower than --close-timeout
// still gets everything queued before the shutdown, as long as it takes it within the grace period.
TEST(shutdown, a_slow_reader_gets_its_whole_queue_within_the_grace_period_not_the_close_timeout)
{
    auto options = test_options();
    options.close_timeout = 100ms;
    options.shutdown_grace = 20s;
    options.max_message_bytes = std::size_t{256} * 1024;
    options.max_queue_bytes = std::size_t{64} * 1024 * 1024;
    test_server server(options);
    constexpr std::uint64_t messages = 64;
    std::string const body(std::size_t{128} * 1024, 'x');  // 8 MiB in all: more than the sockets hold
    run_client(
        [&]() -> awaitable<void> {
            auto slow = co_await raw_connection::connect(server.port(), 64 * 1024);
            auto const reply = co_await slow.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
            require(reply.status == 101, "upgrade");
            co_await slow.write(raw_connection::frame(1, R"({"type":"subscribe","id":1,"data":{"topic":"t"}})"));
            auto const subscribed = co_await slow.read_frame();
            require(subscribed.payload.find("subscribed") != std::string::npos, "subscribed");

            auto publisher = co_await ws_client::connect(json(server.port()));
            for (std::uint64_t i = 1; i <= messages; ++i) {
                auto const delivered = co_await publish(publisher, "t", std::to_string(i) + " " + body, i);
                require(delivered == 1, "queued for the slow reader");
            }
            server.get().shutdown({});
            auto const closed = co_await publisher.receive_close();
            EXPECT_EQ(closed.close_code, 1001);

            // The slow reader takes its time: several close timeouts pass before it reads a byte.
            boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, 5 * options.close_timeout);
            co_await pause.async_wait(boost::asio::use_awaitable);
            for (std::uint64_t i = 1; i <= messages; ++i) {
                auto const frame = co_await slow.read_frame();
                auto const envelope = protocol::parse_envelope(frame.payload);
                require(envelope.has_value(), "an envelope");
                auto const text = std::string(envelope->data.at("text").as_string());
                EXPECT_EQ(text.substr(0, text.find(' ')), std::to_string(i));
            }
            auto const end = co_await slow.read_frame();
            EXPECT_EQ(end.opcode, 8);
            EXPECT_EQ(end.close_code(), 1001);
        },
        std::chrono::seconds(30));
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
        // Signal once the session is open: a pong comes from its reader. (Signalled right after
        // the 101, this test failed about 1 run in 40 under TSan, waiting for "closing 1" until
        // its deadline. The cause was not established: the count in that line is of the slots
        // reserved when the upgrade is decided, before the 101 is written.)
        co_await stubborn.write(raw_connection::frame(9, "counted?"));
        auto const pong = co_await stubborn.read_frame();
        require(pong.opcode == 10, "pong");

        server.signal(SIGINT);
        co_await server.wait_for_line("shutting down: closing 1 WebSocket session");
        server.signal(SIGINT);
        int const status = co_await server.wait_for_exit();  // long before the 60 s grace period
        EXPECT_EQ(status, 1);
    });
}

// Started from a shell whose soft limit is 256, the server runs with the hard limit, and says so.
TEST(executable, raises_its_soft_limit_on_open_files_to_the_hard_one)
{
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    if (files.rlim_max <= 256)
        GTEST_SKIP() << "the hard limit on open files is " << files.rlim_max << ": nothing to raise";
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        auto args = server_args({});
        args.insert(args.begin(), {"-c", R"(ulimit -Sn 256 && exec "$0" "$@")", coropush_executable()});
        child_process server(executor, "/bin/sh", args);
        auto const line = co_await server.wait_for_line("open files");
        EXPECT_NE(line.find("soft limit raised from 256 to " + std::to_string(files.rlim_max)), std::string::npos)
            << line;
        co_await server.wait_for_line("listening on");
        // The process's own account: soft and hard are the same.
        std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
        std::string row;
        for (std::string each; std::getline(limits, each);)
            if (each.starts_with("Max open files"))
                row = each;
        auto const both = std::to_string(files.rlim_max) + " ";
        auto const soft = row.find(both);
        EXPECT_NE(soft, std::string::npos) << row;
        EXPECT_NE(row.find(both, soft + both.size()), std::string::npos) << row;
        server.signal(SIGTERM);
        EXPECT_EQ(co_await server.wait_for_exit(), 0);
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
