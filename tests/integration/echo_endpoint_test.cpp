// The raw echo endpoint (--echo-path), as conformance suites see it: fragmentation, control
// frames in between, UTF-8 validation, protocol errors and the closing handshake, over raw frames.
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;

namespace op {
constexpr std::uint8_t continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10;
}  // namespace op

server_options echo_options()
{
    auto o = test_options();
    o.echo_path = "/echo";
    o.echo_max_message_bytes = std::size_t{16} * 1024 * 1024;
    return o;
}

awaitable<raw_connection> open_echo(std::uint16_t port)
{
    auto c = co_await raw_connection::connect(port);
    auto const reply = co_await c.upgrade("/echo");
    require(reply.status == 101, "upgrade to /echo");
    co_return c;
}

TEST(echo_endpoint, text_and_binary_come_back_unchanged)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        co_await c.write(raw_connection::frame(op::text, "héllo 😀"));
        auto const t = co_await c.read_frame();
        EXPECT_EQ(t.opcode, op::text);
        EXPECT_EQ(t.payload, "héllo 😀");
        std::string const bytes("\x00\xff\x10 binary", 10);
        co_await c.write(raw_connection::frame(op::binary, bytes));
        auto const b = co_await c.read_frame();
        EXPECT_EQ(b.opcode, op::binary);
        EXPECT_EQ(b.payload, bytes);
        co_await c.write(raw_connection::frame(op::text, ""));
        auto const empty = co_await c.read_frame();
        EXPECT_EQ(empty.payload, "");
    });
}

TEST(echo_endpoint, a_fragmented_message_with_pings_between_fragments_comes_back_whole)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        co_await c.write(raw_connection::frame(op::text, "frag", false) + raw_connection::frame(op::ping, "p1") +
                         raw_connection::frame(op::continuation, "men", false) + raw_connection::frame(op::ping, "p2") +
                         raw_connection::frame(op::continuation, "ted", true));
        // Pongs answer the pings as they arrive; the message comes back once it is whole.
        auto const first = co_await c.read_frame();
        auto const second = co_await c.read_frame();
        auto const message = co_await c.read_frame();
        EXPECT_EQ(first.opcode, op::pong);
        EXPECT_EQ(first.payload, "p1");
        EXPECT_EQ(second.opcode, op::pong);
        EXPECT_EQ(second.payload, "p2");
        EXPECT_EQ(message.opcode, op::text);
        EXPECT_TRUE(message.fin);
        EXPECT_EQ(message.payload, "fragmented");
    });
}

TEST(echo_endpoint, a_large_message_within_the_endpoint_limit_comes_back)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        std::string const big(std::size_t{4} * 1024 * 1024, 'x');
        co_await c.write(raw_connection::frame(op::binary, big));
        auto const back = co_await c.read_frame();
        EXPECT_EQ(back.payload.size(), big.size());
        EXPECT_EQ(back.payload, big);
    });
}

struct violation {
    char const* name;
    std::string frames;
    std::uint16_t code;
};

TEST(echo_endpoint, violations_get_their_close_codes)
{
    test_server server(echo_options());
    std::vector<violation> const cases{
        {"invalid utf-8", raw_connection::frame(op::text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
         1007},
        {"invalid utf-8 split across fragments",
         raw_connection::frame(op::text, "ok \xf0\x9f", false) + raw_connection::frame(op::continuation, "\x28", true),
         1007},
        {"continuation without a start", raw_connection::frame(op::continuation, "orphan"), 1002},
        {"new message inside a fragmented one",
         raw_connection::frame(op::text, "a", false) + raw_connection::frame(op::text, "b"), 1002},
        {"fragmented control frame", raw_connection::frame(op::ping, "x", false), 1002},
        {"reserved opcode", raw_connection::frame(0xb, "x"), 1002},
        {"control frame over 125 bytes", raw_connection::frame(op::ping, std::string(126, 'p')), 1002},
        {"close with an invalid code", raw_connection::close_frame(999), 1002},
        // Codes above 4999 are not allowed on the wire at all (RFC 6455 7.4); Beast would echo them.
        {"close with code 5000", raw_connection::close_frame(5000), 1002},
        {"close with code 65535", raw_connection::close_frame(65535), 1002},
    };
    run_client([&]() -> awaitable<void> {
        for (auto const& v : cases) {
            auto c = co_await open_echo(server.port());
            co_await c.write(v.frames);
            auto const frame = co_await c.read_frame();
            EXPECT_EQ(frame.opcode, op::close) << v.name;
            EXPECT_EQ(frame.close_code(), v.code) << v.name;
        }
    });
}

// Messages up to --echo-max-message (16 MiB by default) come back with every other option at its
// default, although the outbound queue's byte limit (4 MiB) is smaller: a message that finds
// nothing waiting always fits the queue (Autobahn cases 9.1.5, 9.1.6, 9.2.5, 9.2.6).
TEST(echo_endpoint, messages_of_8_and_16_mib_come_back_whole_with_default_limits)
{
    auto options = echo_options();
    server_options const defaults;
    options.echo_max_message_bytes = defaults.echo_max_message_bytes;
    options.max_queue_bytes = defaults.max_queue_bytes;
    options.max_queue_messages = defaults.max_queue_messages;
    test_server server(options);
    struct size_case {
        std::size_t bytes;
        std::uint8_t opcode;
        std::size_t fragment;  // 0: one frame
    };
    constexpr std::size_t kib = 1024;
    constexpr std::size_t mib = kib * kib;
    std::vector<size_case> const cases{{8 * mib, op::text, 0},         {16 * mib, op::text, 0},
                                       {8 * mib, op::binary, 0},       {16 * mib, op::binary, 0},
                                       {16 * mib, op::text, 64 * kib}, {16 * mib, op::binary, 64 * kib},
                                       {8 * mib, op::text, mib},       {8 * mib, op::binary, mib}};
    run_client(
        [&]() -> awaitable<void> {
            auto c = co_await open_echo(server.port());
            for (auto const& k : cases) {
                // Printable ASCII (valid UTF-8 for text) that is not one repeated byte.
                std::string payload(k.bytes, ' ');
                for (std::size_t i = 0; i < payload.size(); ++i)
                    payload[i] = static_cast<char>('!' + i % 90);
                if (k.fragment == 0) {
                    co_await c.write(raw_connection::frame(k.opcode, payload));
                } else {
                    for (std::size_t at = 0; at < payload.size(); at += k.fragment) {
                        auto const opcode = at == 0 ? k.opcode : op::continuation;
                        bool const fin = at + k.fragment >= payload.size();
                        co_await c.write(
                            raw_connection::frame(opcode, std::string_view(payload).substr(at, k.fragment), fin));
                    }
                }
                auto const back = co_await c.read_frame();
                EXPECT_EQ(back.opcode, k.opcode) << k.bytes << " bytes";
                EXPECT_TRUE(back.payload == payload)
                    << k.bytes << " bytes, opcode " << int(k.opcode) << ", " << back.payload.size() << " came back";
            }
        },
        std::chrono::seconds(50));
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 0u);
}

// Requests that arrive together are answered together: the reader holds the replies in the batch
// until it has answered every request Beast read with the first (the batching layer counts them),
// so eight pipelined requests cost one write, not eight.
TEST(echo_endpoint, requests_that_arrive_together_are_answered_with_one_write)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        // One request first, so that what is counted from here on is the replies' writes. The
        // server counts a write just after making it, on its own thread: the count of these two
        // (the handshake's response, then the first reply) may come after the reply itself.
        co_await c.write(raw_connection::frame(op::text, "first"));
        EXPECT_EQ((co_await c.read_frame()).payload, "first");
        co_await eventually([&] { return server.metrics().socket_writes.load() >= 2; }, "the first writes counted");
        auto const before = server.metrics().socket_writes.load();
        constexpr int requests = 8;
        std::string together;
        for (int i = 0; i < requests; ++i)
            together += raw_connection::frame(op::text, "request " + std::to_string(i));
        co_await c.write(together);  // one TCP write: the server reads them at once
        for (int i = 0; i < requests; ++i) {
            auto const reply = co_await c.read_frame();
            EXPECT_EQ(reply.payload, "request " + std::to_string(i));
        }
        // Counted by whoever wrote them (the reader, or a writer when it returns), just after the write.
        co_await eventually([&] { return server.metrics().socket_writes.load() > before; }, "the writes counted");
        EXPECT_EQ(server.metrics().socket_writes.load() - before, 1u);
    });
}

TEST(echo_endpoint, an_unmasked_client_frame_is_a_protocol_error)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        co_await c.write(std::string("\x81\x02hi", 4));
        auto const frame = co_await c.read_frame();
        EXPECT_EQ(frame.opcode, op::close);
        EXPECT_EQ(frame.close_code(), 1002);
    });
}

TEST(echo_endpoint, the_closing_handshake_echoes_the_code_and_ends_tcp)
{
    test_server server(echo_options());
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_echo(server.port());
        co_await c.write(raw_connection::close_frame(1000, "bye"));
        auto const frame = co_await c.read_frame();
        EXPECT_EQ(frame.opcode, op::close);
        EXPECT_EQ(frame.close_code(), 1000);
        bool const closed = co_await c.closed_by_server();
        EXPECT_TRUE(closed) << "the server closes the TCP connection after the closing handshake";
    });
}

TEST(echo_endpoint, is_off_unless_configured)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(server.port());
        auto const reply = co_await c.upgrade("/echo");
        EXPECT_EQ(reply.status, 404u);
    });
}

}  // namespace
}  // namespace coropush::testing
