// permessage-deflate (--deflate): negotiated with a client that offers it, and only under the
// option; large messages, compressible or not, fragmented, come back byte for byte both ways;
// small ones go out as they are; a message that inflates past the limit is refused; and all of it
// over wss:// (--tls-cert) as over ws://.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_certificates.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <random>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using client::incoming;
using client::ws_client;

// Large enough for hundreds of 4 KiB fragments each way, small enough for a TSan build in CI.
constexpr std::size_t large_message = std::size_t{2} * 1024 * 1024;

// What the server answers Chromium's and Node ws's offer ("permessage-deflate;
// client_max_window_bits") by default: no context takeover, 1 KiB windows both ways.
constexpr char default_answer[] = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                                  "server_max_window_bits=10; client_max_window_bits=10";

server_options deflate_options()
{
    auto o = test_options();
    o.deflate = true;
    o.echo_path = "/echo";
    return o;
}

client::connect_options offering_deflate(std::uint16_t port, std::string path = "/echo")
{
    auto o = plain(port, std::move(path));
    o.deflate = true;
    return o;
}

// 2 MiB of the same JSON object again and again: compresses a few hundred times.
std::string repeated_json()
{
    std::string const item =
        R"({"type":"message","data":{"topic":"prices","message":{"symbol":"AAPL","price":187.5}}},)";
    std::string text = "[";
    while (text.size() + item.size() + 1 < large_message)
        text += item;
    text.back() = ']';
    return text;
}

// 2 MiB that deflate cannot shrink.
std::string random_bytes()
{
    std::mt19937 random{2024};
    std::uniform_int_distribution<int> byte(0, 255);
    std::string bytes(large_message, '\0');
    for (auto& b : bytes)
        b = static_cast<char>(byte(random));
    return bytes;
}

// Sends `message` and requires the same bytes back, of the same kind.
awaitable<void> echo_exactly(ws_client& c, std::string const& message, bool binary)
{
    if (binary)
        co_await c.send_binary(message);
    else
        co_await c.send_text(message);
    auto const back = co_await c.receive();
    require(back.what == (binary ? incoming::kind::binary : incoming::kind::text), "the same kind of message back");
    require(back.payload.size() == message.size(), "as many bytes back");
    require(back.payload == message, "the same bytes back");
}

TEST(deflate, without_the_option_an_offer_is_declined_and_messages_go_uncompressed)
{
    auto options = deflate_options();
    options.deflate = false;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(offering_deflate(server.port()));
        EXPECT_EQ(c.extensions(), "");
        co_await echo_exactly(c, std::string(std::size_t{64} * 1024, 'x'), false);
        co_await c.close();

        // Chromium's offer, by hand: no extension in the answer, and the echo is sent as it is.
        auto raw = co_await raw_connection::connect(server.port());
        auto const reply =
            co_await raw.upgrade("/echo", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
        EXPECT_EQ(reply.status, 101u);
        EXPECT_EQ(reply.headers.count("sec-websocket-extensions"), 0u);
        co_await raw.write(raw_connection::frame(1, std::string(4096, 'x')));
        auto const frame = co_await raw.read_frame();
        EXPECT_FALSE(frame.compressed);
        EXPECT_EQ(frame.payload, std::string(4096, 'x'));
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_deflate.load(), 0u);
}

TEST(deflate, with_the_option_it_is_negotiated_without_context_takeover_and_counted)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(offering_deflate(server.port()));
        EXPECT_EQ(c.extensions(), default_answer);
        auto no_offer = co_await ws_client::connect(plain(server.port(), "/echo"));
        EXPECT_EQ(no_offer.extensions(), "") << "a client that offers nothing gets nothing";
        co_await echo_exactly(no_offer, "plain as ever", false);
        co_await c.close();
        co_await no_offer.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_deflate.load(), 1u);
    EXPECT_EQ(server.metrics().websocket_sessions_total.load(), 2u);
}

TEST(deflate, large_compressible_and_incompressible_messages_come_back_byte_for_byte)
{
    test_server server(deflate_options());
    run_client(
        [&]() -> awaitable<void> {
            // The client compresses every message and fragments it in 4 KiB frames (Beast's
            // defaults); the server inflates it, and deflates the echo into 4 KiB frames.
            auto c = co_await ws_client::connect(offering_deflate(server.port()));
            require(c.extensions() == default_answer, "deflate negotiated");
            auto const repeated = repeated_json();
            auto const noise = random_bytes();
            co_await echo_exactly(c, repeated, false);
            co_await echo_exactly(c, noise, true);
            co_await echo_exactly(c, "small", false);   // below the threshold: sent as it is
            co_await echo_exactly(c, repeated, false);  // no context carried over: the same again
            co_await c.close();
        },
        std::chrono::seconds(60));
}

TEST(deflate, the_server_deflates_what_it_sends_past_the_threshold_and_nothing_smaller)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(server.port());
        auto const reply =
            co_await c.upgrade("/echo", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
        require(reply.status == 101, "upgraded");
        EXPECT_EQ(reply.headers.at("sec-websocket-extensions"), default_answer);

        // A client may send a message uncompressed; the echo of 4 KiB of one letter comes back
        // deflated to a few bytes.
        co_await c.write(raw_connection::frame(1, std::string(4096, 'x')));
        auto const big = co_await c.read_frame();
        EXPECT_TRUE(big.compressed);
        EXPECT_TRUE(big.fin);
        EXPECT_LT(big.payload.size(), 64u);

        co_await c.write(raw_connection::frame(1, std::string(200, 'y')));
        auto const small = co_await c.read_frame();
        EXPECT_FALSE(small.compressed) << "below the 256-byte threshold";
        EXPECT_EQ(small.payload, std::string(200, 'y'));
    });
}

TEST(deflate, an_offer_that_does_not_let_the_server_choose_the_client_window_gets_the_largest)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        // Firefox's offer: RFC 7692 forbids naming the client's window in the answer.
        auto c = co_await raw_connection::connect(server.port());
        auto const reply = co_await c.upgrade("/echo", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        require(reply.status == 101, "upgraded");
        EXPECT_EQ(reply.headers.at("sec-websocket-extensions"),
                  "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                  "server_max_window_bits=10");
    });
}

TEST(deflate, context_takeover_is_kept_when_asked)
{
    auto options = deflate_options();
    options.deflate_context_takeover = true;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(offering_deflate(server.port()));
        EXPECT_EQ(c.extensions(), "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10");
        // Similar messages one after another, each compressed against the ones before.
        for (int i = 0; i < 50; ++i) {
            std::string const message = R"({"type":"message","data":{"topic":"prices","seq":)" + std::to_string(i) +
                                        "," + std::string(300, static_cast<char>('a' + i % 26)) + "}}";
            co_await echo_exactly(c, message, false);
        }
        co_await c.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_deflate.load(), 1u);
}

TEST(deflate, the_json_and_plain_dialects_negotiate_it_too)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        auto j = json(server.port());
        j.deflate = true;
        auto c = co_await ws_client::connect(j);
        EXPECT_EQ(c.subprotocol(), "coropush.v1");
        EXPECT_EQ(c.extensions(), default_answer);
        protocol::echo const request{std::string(std::size_t{40} * 1024, 'z')};
        co_await c.send(request, 7);
        auto const [echo, id] = co_await c.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, request.text);
        EXPECT_EQ(id, protocol::request_id{7});
        co_await c.close();

        auto demo = co_await ws_client::connect(offering_deflate(server.port(), "/"));
        EXPECT_EQ(demo.extensions(), default_answer);
        co_await demo.send_text("hello");
        auto const welcome = co_await demo.receive();
        EXPECT_EQ(welcome.payload, "欢迎你朋友！");
        auto const notice = co_await demo.receive();
        EXPECT_EQ(notice.payload, "朋友，既然来就多看看！");
        co_await demo.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_deflate.load(), 2u);
}

TEST(deflate, a_message_that_inflates_past_the_limit_is_closed_with_1009)
{
    test_server server(deflate_options());  // the JSON dialect's limit: 64 KiB
    run_client([&]() -> awaitable<void> {
        auto j = json(server.port());
        j.deflate = true;
        auto c = co_await ws_client::connect(j);
        // 1 MiB that deflates to about 1 KiB: refused while it inflates, never buffered whole.
        co_await c.send_text(std::string(std::size_t{1024} * 1024, ' '));
        auto const closed = co_await c.receive_close();
        EXPECT_EQ(closed.close_code, 1009);
        // The client may be done before the server's read ends (each side tears down on its own):
        // stopping the server now would end the session as "server stopped", uncounted.
        co_await eventually([&] { return server.get().websocket_sessions() == 0; }, "the session has ended");
    });
    server.stop();
    EXPECT_EQ(server.metrics().closes_sent(1009), 1u);
}

// RFC 7692 7.1.2.1: an offer of an 8-bit server window, which zlib cannot honour, is declined
// (Beast would answer with 9, larger than asked): the session goes on uncompressed.
TEST(deflate, an_offer_of_a_window_the_server_cannot_honour_is_declined)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(server.port());
        auto const reply =
            co_await c.upgrade("/echo", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n");
        require(reply.status == 101, "upgraded");
        EXPECT_EQ(reply.headers.count("sec-websocket-extensions"), 0u);
        co_await c.write(raw_connection::frame(1, std::string(4096, 'x')));
        auto const echo = co_await c.read_frame();
        EXPECT_FALSE(echo.compressed);
        EXPECT_EQ(echo.payload, std::string(4096, 'x'));
    });
}

// Compressed data that does not inflate fails the connection with a close frame saying so
// (1007), not a bare end of TCP, which a browser reports as 1006, an abnormal end; other sessions
// go on.
TEST(deflate, a_message_whose_compressed_data_does_not_inflate_is_closed_with_1007)
{
    test_server server(deflate_options());
    run_client([&]() -> awaitable<void> {
        // Deflate data with a block of the reserved type 3, then a fixed-Huffman block whose first
        // symbol is a match (length 3, distance 1) with nothing before it to copy from (zlib:
        // "invalid block type", "invalid distance too far back").
        for (std::string const& data : {std::string("\xff\xff\xff\xff\xff"), std::string("\x03\x02\x00", 3)}) {
            auto c = co_await raw_connection::connect(server.port());
            auto const reply = co_await c.upgrade("/echo", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
            require(reply.status == 101, "upgraded");
            auto compressed = raw_connection::frame(1, data);
            compressed[0] = static_cast<char>(compressed[0] | 0x40);  // RSV1: the payload is deflated
            co_await c.write(compressed);
            auto const close = co_await c.read_frame();
            EXPECT_EQ(close.opcode, 8);
            EXPECT_EQ(close.close_code(), 1007);
            bool const closed = co_await c.closed_by_server();
            EXPECT_TRUE(closed);
        }
        auto j = json(server.port());
        j.deflate = true;
        auto good = co_await ws_client::connect(j);
        co_await still_open(good, 1);
        co_await good.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().closes_sent(1007), 2u);
}

TEST(deflate, is_negotiated_over_wss_and_a_large_compressible_message_comes_back_byte_for_byte)
{
    test_certificates const certificates;
    auto options = tls_test_options(certificates);
    options.deflate = true;
    options.echo_path = "/echo";
    test_server server(options);
    run_client(
        [&]() -> awaitable<void> {
            // The in-process client over TLS: deflate is set on the WebSocket stream whatever lies
            // under it, on the client's side and on the server's.
            auto wss = wss_options(server.port(), certificates);
            wss.path = "/echo";
            wss.subprotocols.clear();
            wss.deflate = true;
            auto c = co_await ws_client::connect(wss);
            require(c.extensions() == default_answer, "deflate negotiated over wss://");
            auto const repeated = repeated_json();
            co_await echo_exactly(c, repeated, false);
            co_await echo_exactly(c, repeated, false);  // no context carried over: the same again
            co_await c.close();

            // Under the TLS records the server's frames are deflated: 4 KiB of one letter in a few bytes.
            auto raw = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
            auto const reply = co_await raw.upgrade(
                "/echo", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
            require(reply.status == 101, "upgraded");
            EXPECT_EQ(reply.headers.at("sec-websocket-extensions"), default_answer);
            co_await raw.write(raw_connection::frame(1, std::string(4096, 'x')));
            auto const frame = co_await raw.read_frame();
            EXPECT_TRUE(frame.compressed);
            EXPECT_LT(frame.payload.size(), 64u);
        },
        std::chrono::seconds(60));
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_deflate.load(), 2u);
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::tls), 0u);
}

}  // namespace
}  // namespace coropush::testing
