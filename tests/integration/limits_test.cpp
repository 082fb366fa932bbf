// Deadlines and limits: silent peers, trickled handshakes, oversized headers and bodies, too many
// connections, foreign origins. Each gets its documented answer; the server keeps serving.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;
using clock = std::chrono::steady_clock;

TEST(keepalive, a_peer_that_ignores_pings_is_dropped_after_the_ping_timeout)
{
    auto options = test_options();
    options.ping_interval = 50ms;
    options.ping_timeout = 50ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto silent = co_await raw_connection::connect(server.port());
        auto const reply = co_await silent.upgrade("/");
        require(reply.status == 101, "upgrade");
        auto const started = clock::now();
        // Read what comes (the ping) but never answer it.
        auto const ping = co_await silent.read_frame();
        EXPECT_EQ(ping.opcode, 9);
        bool const closed = co_await silent.closed_by_server();
        EXPECT_TRUE(closed);
        EXPECT_GE(clock::now() - started, 50ms);
    });
    EXPECT_EQ(server.metrics().ping_timeouts.load(), 1u);
}

TEST(keepalive, a_peer_that_answers_pings_stays_connected_through_many_intervals)
{
    auto options = test_options();
    options.ping_interval = 20ms;
    options.ping_timeout = 40ms;
    options.push_delay = 300ms;  // fifteen ping intervals
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto client = co_await raw_connection::connect(server.port());
        auto const reply = co_await client.upgrade("/");
        require(reply.status == 101, "upgrade");
        co_await client.write(raw_connection::frame(1, "hi"));  // the plain demo: welcome, then the notice
        // Every ping is answered (with its payload, as a pong must) until the notice arrives.
        int pings = 0;
        std::vector<std::string> texts;
        while (texts.size() < 2) {
            auto const frame = co_await client.read_frame();
            if (frame.opcode == 9) {
                ++pings;
                co_await client.write(raw_connection::frame(10, frame.payload));
            } else {
                texts.push_back(frame.payload);
            }
        }
        EXPECT_EQ(texts[1], "朋友，既然来就多看看！");
        // A ping goes out one interval after the last pong: about 300 / 20 of them, fewer when
        // the machine is slow, never more than one per interval.
        EXPECT_GE(pings, 3);
        EXPECT_LE(pings, 15);
    });
    EXPECT_EQ(server.metrics().ping_timeouts.load(), 0u);
}

// --ping-interval counts from the last thing the peer said, not from the previous ping's turn.
TEST(keepalive, a_silent_peer_is_pinged_one_interval_after_it_last_spoke)
{
    auto options = test_options();
    options.ping_interval = 400ms;
    options.ping_timeout = 10s;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto client = co_await raw_connection::connect(server.port());
        auto const reply = co_await client.upgrade("/");
        require(reply.status == 101, "upgrade");
        // Speak half an interval into the session, then fall silent.
        boost::asio::steady_timer pace(co_await boost::asio::this_coro::executor, options.ping_interval / 2);
        co_await pace.async_wait(boost::asio::use_awaitable);
        // Before the write: the server may read "hi" before this coroutine resumes after it.
        auto const spoke = clock::now();
        co_await client.write(raw_connection::frame(1, "hi"));
        auto frame = co_await client.read_frame();  // the welcome
        while (frame.opcode != 9)
            frame = co_await client.read_frame();  // the notice, then the ping
        auto const waited = clock::now() - spoke;
        EXPECT_GE(waited, options.ping_interval);
        EXPECT_LT(waited, options.ping_interval + 150ms)
            << "pinged " << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
            << " ms after the peer's last message";
    });
}

TEST(deadlines, a_client_that_trickles_its_request_is_cut_off_at_the_handshake_timeout)
{
    auto options = test_options();
    options.handshake_timeout = 200ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto trickler = co_await raw_connection::connect(server.port());
        std::string const request = raw_connection::upgrade_request("/");
        auto const started = clock::now();
        boost::asio::steady_timer pace(co_await boost::asio::this_coro::executor);
        // The hostile client: one byte every 20 ms, forever. (The timer models the attacker's
        // pace; the test itself waits for the server's reaction, the write that fails.)
        bool cut_off = false;
        for (std::size_t i = 0; !cut_off; i = (i + 1) % request.size()) {
            try {
                co_await trickler.write(request.substr(i, 1));
            } catch (boost::system::system_error const&) {
                cut_off = true;
                break;
            }
            pace.expires_after(20ms);
            co_await pace.async_wait(boost::asio::use_awaitable);
            require(clock::now() - started < 5s, "never cut off");
        }
        EXPECT_GE(clock::now() - started, 200ms);
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::timeout), 1u);
}

TEST(deadlines, a_connection_that_never_sends_a_request_is_closed_at_the_handshake_timeout)
{
    auto options = test_options();
    options.handshake_timeout = 100ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto idle = co_await raw_connection::connect(server.port());
        bool const closed = co_await idle.closed_by_server();
        EXPECT_TRUE(closed);
    });
}

TEST(deadlines, a_closing_handshake_the_peer_never_completes_is_cut_off_at_the_close_timeout)
{
    auto options = test_options();
    options.close_timeout = 100ms;
    options.admin_token = "t";
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto peer = co_await raw_connection::connect(server.port());
        auto const reply = co_await peer.upgrade("/");
        require(reply.status == 101, "upgrade");
        auto admin = co_await raw_connection::connect(server.port());
        co_await admin.write("POST /admin/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                             "Content-Length: 0\r\n\r\n");
        auto const answer = co_await admin.read_http();
        EXPECT_EQ(answer.status, 200u);
        auto const close = co_await peer.read_frame();  // the server's close frame (1012)...
        EXPECT_EQ(close.close_code(), 1012);
        auto const started = clock::now();
        bool const closed = co_await peer.closed_by_server();  // ...which we never answer
        EXPECT_TRUE(closed);
        EXPECT_GE(clock::now() - started, 50ms);
    });
}

TEST(deadlines, a_peer_that_closes_and_then_never_ends_the_connection_is_cut_off_at_the_close_timeout)
{
    auto options = test_options();
    options.close_timeout = 100ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto peer = co_await raw_connection::connect(server.port());
        auto const reply = co_await peer.upgrade("/");
        require(reply.status == 101, "upgrade");
        // The peer begins the close, then neither reads the answer nor ends the TCP connection:
        // the server's teardown waits for an end that never comes, for the close timeout only.
        co_await peer.write(raw_connection::close_frame(1000));
        co_await eventually([&] { return server.get().websocket_sessions() == 0; }, "the session has ended", 5s);
    });
}

TEST(limits, oversized_headers_get_431_and_oversized_bodies_413)
{
    auto options = test_options();
    options.max_header_bytes = 1024;
    options.max_body_bytes = 100;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto a = co_await raw_connection::connect(server.port());
        co_await a.write("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') + "\r\n\r\n");
        auto const too_large = co_await a.read_http();
        EXPECT_EQ(too_large.status, 431u);

        auto b = co_await raw_connection::connect(server.port());
        co_await b.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b'));
        auto const body = co_await b.read_http();
        EXPECT_EQ(body.status, 413u);

        auto c = co_await raw_connection::connect(server.port());
        co_await c.write(raw_connection::upgrade_request("/", "X-Big: " + std::string(4000, 'h') + "\r\n"));
        auto const upgrade = co_await c.read_http();
        EXPECT_EQ(upgrade.status, 431u);
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::header_too_large), 2u);
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::body_too_large), 1u);
}

TEST(limits, upgrades_past_the_connection_limit_get_503_and_the_open_sessions_go_on)
{
    auto options = test_options();
    options.max_connections = 2;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto first = co_await ws_client::connect(json(server.port()));
        auto second = co_await ws_client::connect(json(server.port()));
        unsigned status = 0;
        try {
            auto third = co_await ws_client::connect(json(server.port()));
        } catch (client::handshake_rejected const& e) {
            status = e.status;
        }
        EXPECT_EQ(status, 503u);
        protocol::echo const ping{"ok"};
        co_await first.send(ping, 1);
        auto const [echo, id] = co_await first.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "ok");
        co_await first.close();
        co_await second.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::too_many_connections), 1u);
}

// --max-http-connections: while that many connections are in their HTTP part, the listener stops
// accepting (and says so in coropush_accepting_paused); the next client waits in the kernel's
// backlog, unaccepted, and is served once one of them leaves.
TEST(limits, past_the_http_connection_limit_new_connections_wait_to_be_accepted)
{
    auto options = test_options();
    options.max_http_connections = 2;
    test_server server(options);
    auto const& stats = server.metrics();
    run_client([&]() -> awaitable<void> {
        auto first = co_await raw_connection::connect(server.port());
        auto second = co_await raw_connection::connect(server.port());
        co_await eventually([&] { return stats.accepting_paused.load() == 1; }, "accepting paused");
        EXPECT_EQ(stats.tcp_connections_total.load(), 2u);
        auto waiting = co_await raw_connection::connect(server.port());  // the kernel completes it
        co_await waiting.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await second.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ((co_await second.read_http()).status, 200u);  // the two are served meanwhile
        EXPECT_EQ(stats.tcp_connections_total.load(), 2u) << "the third is not accepted while paused";
        first.stop_sending();  // leaves: its slot frees
        auto const served = co_await waiting.read_http();
        EXPECT_EQ(served.status, 200u);
        EXPECT_EQ(stats.tcp_connections_total.load(), 3u);
    });
}

// The slot is the HTTP part's only: a WebSocket session leaves it at the upgrade.
TEST(limits, websocket_sessions_do_not_count_against_the_http_connection_limit)
{
    auto options = test_options();
    options.max_http_connections = 1;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto first = co_await ws_client::connect(json(server.port()));
        auto second = co_await ws_client::connect(json(server.port()));
        auto third = co_await ws_client::connect(json(server.port()));
        for (auto* client : {&first, &second, &third})
            co_await client->close();
    });
}

// Its session ends on the end of the stream; the socket goes to the server's closer, which closes
// it off the io thread (net/socket_closer.hpp): the client still gets the server's end, and the
// slot is free at once for the next client.
TEST(limits, a_client_that_leaves_without_a_closing_handshake_gets_the_servers_end_and_frees_its_slot)
{
    auto options = test_options();
    options.max_connections = 1;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            auto raw = co_await raw_connection::connect(server.port());
            auto const reply = co_await raw.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
            EXPECT_EQ(reply.status, 101u);
            raw.stop_sending();
            EXPECT_TRUE(co_await raw.closed_by_server());
        }
        auto client = co_await ws_client::connect(json(server.port()));
        protocol::echo const ping{"ok"};
        co_await client.send(ping, 1);
        auto const [echo, id] = co_await client.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "ok");
        co_await client.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::too_many_connections), 0u);
}

TEST(limits, upgrades_from_a_foreign_origin_get_403)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto options = json(server.port());
        options.origin = "http://evil.example";
        unsigned status = 0;
        try {
            auto refused = co_await ws_client::connect(options);
        } catch (client::handshake_rejected const& e) {
            status = e.status;
        }
        EXPECT_EQ(status, 403u);
        options.origin = "http://localhost:8080";
        auto local = co_await ws_client::connect(options);
        co_await local.close();
    });
}

TEST(limits, an_allow_list_replaces_the_default_origin_policy)
{
    auto options = test_options();
    options.allowed_origins = {"https://app.example"};
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto o = json(server.port());
        o.origin = "https://app.example";
        auto allowed = co_await ws_client::connect(o);
        co_await allowed.close();
        o.origin = "http://localhost:8080";
        unsigned status = 0;
        try {
            auto refused = co_await ws_client::connect(o);
        } catch (client::handshake_rejected const& e) {
            status = e.status;
        }
        EXPECT_EQ(status, 403u);
    });
}

}  // namespace
}  // namespace coropush::testing
