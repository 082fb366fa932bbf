// Every class of bad input gets its documented answer, and the connection (or, where the
// protocol demands a close, every other client) keeps being served.
#include "client/ws_client.hpp"
#include "protocol/errc.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include "core/log.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using client::ws_client;

// Sends `text`, expects an error envelope with `code` (and `id` when given), then checks that
// the connection still answers an echo.
awaitable<void> expect_error_then_usable(ws_client& client, std::string text, std::string code, protocol::request_id id)
{
    co_await client.send_text(std::move(text));
    auto const [error, error_id] = co_await client.receive_as<protocol::error>();
    EXPECT_EQ(error.code, code);
    EXPECT_FALSE(error.message.empty());
    EXPECT_EQ(error_id, id);

    protocol::echo const ping{"still here"};
    co_await client.send(ping, 1000);
    auto const [echo, echo_id] = co_await client.receive_as<protocol::echo>();
    EXPECT_EQ(echo.text, "still here");
    EXPECT_EQ(echo_id, 1000u);
}

TEST(bad_input, each_json_dialect_error_gets_its_code_and_the_connection_stays_open)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(json(server.port()));
        co_await expect_error_then_usable(client, "not json at all", "invalid_json", {});
        co_await expect_error_then_usable(client, "[1,2]", "not_object", {});
        co_await expect_error_then_usable(client, R"({"id":3})", "missing_type", 3);
        co_await expect_error_then_usable(client, R"({"type":"teleport","id":4})", "unknown_type", 4);
        co_await expect_error_then_usable(client, R"({"type":"echo","id":5,"data":{"text":7}})", "bad_data", 5);
        co_await expect_error_then_usable(client, R"({"type":"echo","id":6,"data":[]})", "bad_data", 6);
        co_await expect_error_then_usable(client, R"({"type":"echo","id":-6,"data":{"text":"x"}})", "bad_id", {});
        co_await expect_error_then_usable(client, R"({"type":"echo","id":"6","data":{"text":"x"}})", "bad_id", {});
        co_await client.close();
    });
    server.stop();  // every session has ended: the counters are final
    auto const& m = server.metrics();
    EXPECT_EQ(m.error_envelopes(protocol::errc::invalid_json), 1u);
    EXPECT_EQ(m.error_envelopes(protocol::errc::bad_data), 2u);
    EXPECT_EQ(m.error_envelopes(protocol::errc::bad_id), 2u);
}

TEST(bad_input, a_binary_frame_on_the_json_dialect_gets_an_error_envelope)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(json(server.port()));
        co_await client.send_binary(std::string("\x00\x01\x02", 3));
        auto const [error, id] = co_await client.receive_as<protocol::error>();
        EXPECT_EQ(error.code, "binary_unsupported");
        EXPECT_FALSE(id.has_value());
        co_await expect_error_then_usable(client, "{", "invalid_json", {});
        co_await client.close();
    });
}

TEST(bad_input, a_binary_frame_on_the_plain_dialect_is_closed_with_1003)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(plain(server.port()));
        co_await client.send_binary("bytes");
        auto const closed = co_await client.receive_close();
        EXPECT_EQ(closed.close_code, 1003);
    });
    server.stop();
    EXPECT_EQ(server.metrics().closes_sent(1003), 1u);
}

TEST(bad_input, a_message_over_the_size_limit_is_closed_with_1009_and_others_go_on)
{
    auto options = test_options();
    options.max_message_bytes = 1024;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto bystander = co_await ws_client::connect(json(server.port()));
        auto offender = co_await ws_client::connect(json(server.port()));
        protocol::echo const big{std::string(2000, 'x')};
        co_await offender.send(big, 1);
        auto const closed = co_await offender.receive_close();
        EXPECT_EQ(closed.close_code, 1009);

        protocol::echo const fine{std::string(900, 'y')};
        co_await bystander.send(fine, 2);
        auto const [echo, id] = co_await bystander.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text.size(), 900u);
        co_await bystander.close();
    });
    server.shutdown_and_wait();
    EXPECT_EQ(server.metrics().closes_sent(1009), 1u);
}

// The rest of the refused message is read and dropped before the server's end: closed with it
// unread, the connection was reset (Beast 1.81's teardown reads once), and a browser that had not
// yet read the close frame lost it and reported 1006.
TEST(bad_input, the_rest_of_a_message_over_the_limit_is_read_so_the_1009_is_not_lost_to_a_reset)
{
    test_server server;  // --max-message 64k
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(server.port());
        auto const reply = co_await c.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
        EXPECT_EQ(reply.status, 101u);
        co_await c.write(raw_connection::frame(1, std::string(std::size_t{100} * 1024, 'x')));
        auto const closing = co_await c.read_frame();
        EXPECT_EQ(closing.opcode, 8);
        EXPECT_EQ(closing.close_code(), 1009);
        c.stop_sending();  // the client's end: what the server's teardown waits for
        EXPECT_EQ(co_await c.how_the_server_ended(), boost::asio::error::eof) << "an orderly end, not a reset";
    });
}

TEST(bad_input, malformed_upgrades_get_http_errors_not_dropped_sockets)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        struct attempt {
            std::string request;
            unsigned status;
        };
        std::string const head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
        std::vector<attempt> const attempts{
            {head + "Sec-WebSocket-Version: 13\r\n\r\n", 400},                              // no key
            {head + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},  // bad key
            {head + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400},            // no version
            {head + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426},
            {raw_connection::upgrade_request("/nowhere"), 404},
            {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
             "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nearly frame bytes",
             400},
            {"GARBAGE\r\n\r\n", 400},
            // Headers that must come once: two keys, two origins.
            {raw_connection::upgrade_request("/", "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"), 400},
            {raw_connection::upgrade_request("/", "Origin: http://127.0.0.1\r\nOrigin: http://evil.example\r\n"), 400},
        };
        for (auto const& a : attempts) {
            auto connection = co_await raw_connection::connect(server.port());
            co_await connection.write(a.request);
            auto const reply = co_await connection.read_http();
            EXPECT_EQ(reply.status, a.status) << a.request;
            EXPECT_FALSE(reply.body.empty()) << "a refusal says why: " << a.request;
        }
        // And the server still accepts a proper client afterwards.
        auto client = co_await ws_client::connect(json(server.port()));
        co_await client.close();
    });
}

// A subprotocol is chosen by its exact name (a browser fails a connection whose answer differs
// from its offer, in case too), and an offer may come on several header lines (RFC 6455 11.3.4).
TEST(bad_input, subprotocols_are_matched_exactly_across_header_lines_and_absolute_targets)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto shouting = co_await raw_connection::connect(server.port());
        auto const plain = co_await shouting.upgrade("/", "Sec-WebSocket-Protocol: COROPUSH.V1\r\n");
        EXPECT_EQ(plain.status, 101u);
        EXPECT_EQ(plain.headers.count("sec-websocket-protocol"), 0u) << "the plain demo, which names none";

        auto two_lines = co_await raw_connection::connect(server.port());
        auto const json =
            co_await two_lines.upgrade("/", "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: coropush.v1\r\n");
        EXPECT_EQ(json.status, 101u);
        EXPECT_EQ(json.headers.at("sec-websocket-protocol"), "coropush.v1");

        // An upgrade has no body to wait for: Expect: 100-continue gets the 101, no 100 first.
        auto expecting = co_await raw_connection::connect(server.port());
        auto const switched = co_await expecting.upgrade("/", "Expect: 100-continue\r\n");
        EXPECT_EQ(switched.status, 101u);

        // A target in absolute form reaches the same endpoint (RFC 9112 3.2.2).
        auto absolute = co_await raw_connection::connect(server.port());
        auto const also_json =
            co_await absolute.upgrade("http://127.0.0.1/ws", "Sec-WebSocket-Protocol: coropush.v1\r\n");
        EXPECT_EQ(also_json.status, 101u);
        EXPECT_EQ(also_json.headers.at("sec-websocket-protocol"), "coropush.v1");
    });
}

// An upgrade on `path` from a page of `origin`, offering the JSON dialect's subprotocol or none,
// and the status it should get.
enum class offer { plain, json };
struct origin_case {
    std::string path;
    std::string origin;
    offer dialect;
    unsigned status;
};

// Sends each case's upgrade on a connection of its own and checks the status.
awaitable<void> expect_upgrade_statuses(std::uint16_t port, std::vector<origin_case> const& cases)
{
    for (auto const& c : cases) {
        auto connection = co_await raw_connection::connect(port);
        std::string headers = "Origin: " + c.origin + "\r\n";
        if (c.dialect == offer::json)
            headers += "Sec-WebSocket-Protocol: coropush.v1\r\n";
        auto const reply = co_await connection.upgrade(c.path, headers);
        EXPECT_EQ(reply.status, c.status)
            << c.path << (c.dialect == offer::json ? " coropush.v1" : " plain") << " from Origin: " << c.origin;
    }
}

// What the server logs while it lives: installed as the logger's sink, removed when it ends.
class captured_log {
public:
    captured_log()
    {
        logger::set_sink([this](std::string_view line) {
            std::lock_guard const lock(mutex_);
            text_ += line;
        });
    }
    ~captured_log() { logger::set_sink(nullptr); }
    captured_log(captured_log const&) = delete;
    captured_log& operator=(captured_log const&) = delete;

    std::string text() const
    {
        std::lock_guard const lock(mutex_);
        return text_;
    }

private:
    mutable std::mutex mutex_;
    std::string text_;
};

TEST(bad_input, a_foreign_or_malformed_origin_is_refused_the_json_dialect_but_not_the_demo_or_echo)
{
    auto options = test_options();
    options.echo_path = "/echo";
    test_server server(options);
    std::vector<origin_case> cases;
    // null: a page opened from disk (file://), as the seed's index.html is.
    for (char const* const origin : {"null", "http://evil.example", "http://[::1]evil.com"}) {
        cases.push_back({"/", origin, offer::json, 403});
        cases.push_back({"/ws", origin, offer::json, 403});
        cases.push_back({"/", origin, offer::plain, 101});
        cases.push_back({"/ws", origin, offer::plain, 101});
        cases.push_back({"/echo", origin, offer::plain, 101});
    }
    cases.push_back({"/ws", "http://localhost:8080", offer::json, 101});
    cases.push_back({"/ws?page=original.html", "null", offer::plain, 101});  // a query is not part of the path
    run_client([&]() -> awaitable<void> {
        co_await expect_upgrade_statuses(server.port(), cases);

        // And the demo from disk is the demo: the welcome comes back.
        auto from_disk = plain(server.port());
        from_disk.origin = "null";
        auto client = co_await ws_client::connect(from_disk);
        co_await client.send_text("亲爱的服务器！我连上你啦！");
        auto const welcome = co_await client.receive();
        EXPECT_EQ(welcome.payload, "欢迎你朋友！");
        co_await client.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::forbidden_origin), 6u);
}

TEST(bad_input, an_allow_list_applies_to_the_json_dialect_only)
{
    auto options = test_options();
    options.allowed_origins = {"https://app.example"};
    test_server server(options);
    std::vector<origin_case> const cases{
        {"/ws", "https://app.example", offer::json, 101},   {"/ws", "null", offer::json, 403},
        {"/ws", "http://localhost:8080", offer::json, 403}, {"/ws", "null", offer::plain, 101},
        {"/ws", "http://evil.example", offer::plain, 101},
    };
    run_client([&]() -> awaitable<void> { co_await expect_upgrade_statuses(server.port(), cases); });
}

TEST(bad_input, a_refused_origin_is_logged_with_the_option_that_would_allow_it)
{
    captured_log const log;
    test_server server;
    std::vector<origin_case> const cases{{"/ws", "null", offer::json, 403}};
    run_client([&]() -> awaitable<void> { co_await expect_upgrade_statuses(server.port(), cases); });
    // The line is written before the 403 is, so it is there once the answer has been read.
    auto const text = log.text();
    EXPECT_NE(text.find("upgrade refused: 403 origin not allowed for coropush.v1: \"null\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("--allow-origin null would allow it"), std::string::npos) << text;
}

// A client's close is echoed with its code (1000 when it gave none), and the echo counts among the
// close frames sent as the server's own closes do; a code no endpoint may send gets 1002 instead,
// counted once.
TEST(bad_input, a_clients_close_is_echoed_and_counted_and_a_forbidden_code_gets_1002)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        std::vector<std::pair<std::string, std::uint16_t>> const closes{{raw_connection::close_frame(4000), 4000},
                                                                        {raw_connection::frame(0x8, ""), 1000},
                                                                        {raw_connection::close_frame(5000), 1002}};
        for (auto const& [close, answer] : closes) {
            auto connection = co_await raw_connection::connect(server.port());
            auto const reply = co_await connection.upgrade("/");
            require(reply.status == 101, "upgrade");
            co_await connection.write(close);
            auto const frame = co_await connection.read_frame();
            EXPECT_EQ(frame.opcode, 8);
            EXPECT_EQ(frame.close_code(), answer);
        }
    });
    server.shutdown_and_wait();
    EXPECT_EQ(server.metrics().closes_sent(4000), 1u);
    EXPECT_EQ(server.metrics().closes_sent(1000), 1u);
    EXPECT_EQ(server.metrics().closes_sent(1002), 1u);
}

TEST(bad_input, a_websocket_protocol_violation_is_closed_with_1002_and_invalid_utf8_with_1007)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        {
            auto connection = co_await raw_connection::connect(server.port());
            auto const reply = co_await connection.upgrade("/");
            EXPECT_EQ(reply.status, 101u);
            co_await connection.write(raw_connection::frame(0x3, "reserved opcode"));
            auto const frame = co_await connection.read_frame();
            EXPECT_EQ(frame.opcode, 8);
            EXPECT_EQ(frame.close_code(), 1002);
            bool const closed = co_await connection.closed_by_server();  // and then the TCP connection
            EXPECT_TRUE(closed);
        }
        {
            auto connection = co_await raw_connection::connect(server.port());
            auto const reply = co_await connection.upgrade("/");
            EXPECT_EQ(reply.status, 101u);
            co_await connection.write(raw_connection::frame(0x1, "bad \xff\xfe utf-8"));
            auto const frame = co_await connection.read_frame();
            EXPECT_EQ(frame.opcode, 8);
            EXPECT_EQ(frame.close_code(), 1007);
            bool const closed = co_await connection.closed_by_server();
            EXPECT_TRUE(closed);
        }
    });
    // Graceful: lets each session finish its closing handshake before the counters are read.
    server.shutdown_and_wait();
    EXPECT_EQ(server.metrics().closes_sent(1002), 1u);
    EXPECT_EQ(server.metrics().closes_sent(1007), 1u);
}

}  // namespace
}  // namespace coropush::testing
