// The batching layer on real loopback sockets: what reaches the socket, in how many writes, in
// which order; Beast's own frames (a pong, a close reply) during a batch; a write error; a peer
// that stops reading. The socket under the layer records each write it is asked for, and can fail
// the next one (the seam for a write error); everything else is the real network.
#include "net/batching_stream.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace coropush::net {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using coropush::testing::eventually;
using coropush::testing::raw_connection;
using coropush::testing::require;
using coropush::testing::run_client;
using error_code = boost::system::error_code;
constexpr auto as_values = asio::as_tuple(asio::use_awaitable);

// A TCP socket that records the size of each write it is asked for, and fails the next one when
// told to (without touching the socket). With `WritesNow` false it offers no write that does not
// wait (no non_blocking, no write_some): the layer then treats it as it treats TLS.
template <bool WritesNow>
class basic_recording_socket {
public:
    using executor_type = tcp::socket::executor_type;

    explicit basic_recording_socket(tcp::socket socket)
        : socket_(std::move(socket))
    {
    }

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    tcp::socket& next_layer() noexcept { return socket_; }

    template <class Buffers, class Token>
    auto async_read_some(Buffers const& buffers, Token&& token)
    {
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }

    template <class Buffers, class Token>
    auto async_write_some(Buffers const& buffers, Token&& token)
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, Buffers const& b) {
                writes.push_back(asio::buffer_size(b));
                if (fail_next_write) {
                    auto const ec = std::exchange(fail_next_write, {});
                    asio::post(socket_.get_executor(), asio::append(std::move(handler), ec, std::size_t{0}));
                    return;
                }
                socket_.async_write_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class Buffers>
    std::size_t write_some(Buffers const& buffers, error_code& ec) requires WritesNow
    {
        writes.push_back(asio::buffer_size(buffers));
        return socket_.write_some(buffers, ec);
    }

    void non_blocking(bool mode, error_code& ec) requires WritesNow { socket_.non_blocking(mode, ec); }

    std::vector<std::size_t> writes;  // the size of each write asked of the socket
    error_code fail_next_write;

private:
    tcp::socket socket_;
};

using recording_socket = basic_recording_socket<true>;
using awaited_socket = basic_recording_socket<false>;

// Found by Beast (through the layer's own teardown) by argument-dependent lookup.
template <bool WritesNow, class Handler>
void async_teardown(beast::role_type role, basic_recording_socket<WritesNow>& socket, Handler&& handler)
{
    beast::websocket::async_teardown(role, socket.next_layer(), std::forward<Handler>(handler));
}

using layer = batching_stream<recording_socket>;
using awaited_layer = batching_stream<awaited_socket>;
static_assert(layer::writes_without_waiting);
static_assert(!awaited_layer::writes_without_waiting);

struct connected_pair {
    tcp::socket server;
    tcp::socket client;
};

// A loopback connection. Small buffers (`buffer_bytes`, 0: the system's) model a client that
// stops reading: the server's writes then wait.
asio::awaitable<connected_pair> connect_pair(int buffer_bytes = 0)
{
    auto const ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(ex, {asio::ip::address_v4::loopback(), 0});
    tcp::socket client(ex);
    client.open(tcp::v4());
    if (buffer_bytes > 0)
        client.set_option(asio::socket_base::receive_buffer_size(buffer_bytes));
    co_await client.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    auto server = co_await acceptor.async_accept(asio::use_awaitable);
    if (buffer_bytes > 0)
        server.set_option(asio::socket_base::send_buffer_size(buffer_bytes));
    co_return connected_pair{std::move(server), std::move(client)};
}

asio::awaitable<std::string> read_exactly(tcp::socket& socket, std::size_t bytes)
{
    std::string text(bytes, '\0');
    co_await asio::async_read(socket, asio::buffer(text), asio::use_awaitable);
    co_return text;
}

asio::awaitable<void> write_text(layer& stream, std::string text)
{
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(text), as_values);
    require(!ec, "the write succeeds");
}

// Runs `body` on a fresh loopback connection: the layer on the server's end, and the client's
// end. Small buffers (`buffer_bytes`) model a client that stops reading.
void with_layer(std::function<asio::awaitable<void>(layer&, tcp::socket&)> const& body, int buffer_bytes = 0)
{
    run_client([&]() -> asio::awaitable<void> {
        auto [server, client] = co_await connect_pair(buffer_bytes);
        layer stream(std::move(server));
        co_await body(stream, client);
    });
}

TEST(batching_stream, without_a_batch_each_write_passes_straight_through)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        co_await write_text(stream, "one");
        co_await write_text(stream, "two");
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{3, 3}));
        EXPECT_EQ(co_await read_exactly(client, 6), "onetwo");
    });
}

TEST(batching_stream, an_open_batch_leaves_in_one_write_when_flushed_and_gives_its_buffer_back)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        stream.open_batch();
        for (auto const* text : {"one", "two", "three"})
            co_await write_text(stream, text);
        EXPECT_TRUE(stream.next_layer().writes.empty()) << "held writes complete without touching the socket";
        EXPECT_TRUE(stream.holds_writes());

        auto [ec] = co_await stream.async_flush(as_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{11}));
        EXPECT_FALSE(stream.batch_open()) << "a flush closes the batch";
        EXPECT_EQ(stream.held_capacity(), 0u) << "an idle connection keeps no batch buffer";
        EXPECT_EQ(co_await read_exactly(client, 11), "onetwothree");

        co_await write_text(stream, "four");
        EXPECT_EQ(stream.next_layer().writes.back(), 4u) << "after the flush, writes pass through again";
    });
}

TEST(batching_stream, flush_now_sends_the_batch_in_one_write_without_waiting)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        stream.open_batch();
        co_await write_text(stream, "one");
        co_await write_text(stream, "two");
        error_code ec;
        EXPECT_TRUE(stream.flush_now(ec)) << "the socket had room for it all";
        EXPECT_FALSE(ec);
        EXPECT_FALSE(stream.batch_open());
        EXPECT_EQ(stream.held_capacity(), 0u);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{6}));
        EXPECT_EQ(co_await read_exactly(client, 6), "onetwo");
    });
}

TEST(batching_stream, a_write_past_the_bound_leaves_with_what_is_held_in_one_write)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        stream.set_limits({8, 64, 8});
        stream.open_batch();
        co_await write_text(stream, "12345");
        co_await write_text(stream, "6789");  // 9 bytes would be copied: sent with what is held
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{9}));
        co_await write_text(stream, "ab");                  // the batch is still open
        co_await write_text(stream, std::string(20, 'z'));  // too large to hold: never copied
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{9, 22}));
        auto [ec] = co_await stream.async_flush(as_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(stream.next_layer().writes.size(), 2u) << "nothing was left to flush";
        EXPECT_EQ(co_await read_exactly(client, 31), "123456789ab" + std::string(20, 'z'));
    });
}

TEST(batching_stream, the_write_bound_counts_writes)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        stream.set_limits({1024, 3, 1024});
        stream.open_batch();
        for (auto const* text : {"a", "b", "c", "d"})
            co_await write_text(stream, text);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{3})) << "three writes, then one held";
        auto [ec] = co_await stream.async_flush(as_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{3, 1}));
        EXPECT_EQ(co_await read_exactly(client, 4), "abcd");
    });
}

TEST(batching_stream, a_write_error_mid_batch_fails_that_write_and_every_later_one)
{
    with_layer([](layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
        stream.set_limits({4, 64, 4});
        stream.open_batch();
        co_await write_text(stream, "abc");
        stream.next_layer().fail_next_write = asio::error::connection_reset;
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer("de", 2), as_values);
        EXPECT_EQ(ec, asio::error::connection_reset) << "the gathered write carrying it failed";
        EXPECT_EQ(stream.held_capacity(), 0u);

        auto [later, m] = co_await asio::async_write(stream, asio::buffer("f", 1), as_values);
        EXPECT_EQ(later, asio::error::connection_reset) << "a later write fails with the same error";
        auto [flushed] = co_await stream.async_flush(as_values);
        EXPECT_EQ(flushed, asio::error::connection_reset) << "and so does a flush";
        EXPECT_EQ(stream.next_layer().writes.size(), 1u) << "the socket was not asked again";
    });
}

TEST(batching_stream, a_flush_that_fails_fails_every_later_write)
{
    with_layer([](layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
        stream.open_batch();
        co_await write_text(stream, "abc");
        stream.next_layer().fail_next_write = asio::error::broken_pipe;
        auto [ec] = co_await stream.async_flush(as_values);
        EXPECT_EQ(ec, asio::error::broken_pipe);
        auto [later, n] = co_await asio::async_write(stream, asio::buffer("d", 1), as_values);
        EXPECT_EQ(later, asio::error::broken_pipe);
    });
}

// Holds 1 MiB in an open batch: flushed to a client with small buffers that does not read, the
// write stays in flight.
asio::awaitable<std::string> hold_more_than_the_socket_takes(layer& stream)
{
    std::string batch(std::size_t{1} << 20, 'x');
    stream.set_limits({batch.size(), 64, batch.size()});
    stream.open_batch();
    co_await write_text(stream, batch);
    co_return batch;
}

// The writer's flush is not under Beast's write lock: a frame Beast sends meanwhile (a pong) must
// wait for it, and follow it on the wire.
TEST(batching_stream, with_a_peer_that_stops_reading_a_write_waits_for_the_flush_in_flight)
{
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            auto const batch = co_await hold_more_than_the_socket_takes(stream);

            bool flushed = false;
            bool ponged = false;
            auto flush = [&]() -> asio::awaitable<void> {
                auto [ec] = co_await stream.async_flush(as_values);
                require(!ec, "the flush succeeds once the peer reads");
                flushed = true;
            };
            auto pong = [&]() -> asio::awaitable<void> {
                co_await write_text(stream, "pong");
                require(flushed, "the write completed only after the flush before it");
                ponged = true;
            };
            auto peer = [&]() -> asio::awaitable<void> {
                require(!flushed && !ponged, "nothing completes while the peer does not read");
                auto const got = co_await read_exactly(client, batch.size() + 4);
                require(got.substr(batch.size()) == "pong", "the pong follows the batch");
                require(got.find('p') == batch.size(), "nothing went around the batch");
            };
            co_await (flush() && pong() && peer());
            EXPECT_TRUE(ponged);
        },
        8 * 1024);
}

TEST(batching_stream, what_flush_now_cannot_send_at_once_is_awaited_with_async_flush_in_order)
{
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            auto const batch = co_await hold_more_than_the_socket_takes(stream);
            error_code ec;
            require(!stream.flush_now(ec) && !ec, "the socket took only part of it: the rest is to be awaited");
            require(stream.holds_writes(), "the rest stays held");
            auto flush = [&]() -> asio::awaitable<void> {
                auto [flushed] = co_await stream.async_flush(as_values);
                require(!flushed, "the rest went out once the peer read");
            };
            auto peer = [&]() -> asio::awaitable<void> {
                require(co_await read_exactly(client, batch.size()) == batch, "all of it, in order");
            };
            co_await (flush() && peer());
            EXPECT_EQ(stream.held_capacity(), 0u);
        },
        8 * 1024);
}

TEST(batching_stream, a_connection_dropped_under_a_blocked_flush_fails_it_and_the_write_waiting_behind_it)
{
    with_layer(
        [](layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
            co_await hold_more_than_the_socket_takes(stream);

            error_code flush_error;
            error_code write_error;
            auto flush = [&]() -> asio::awaitable<void> {
                auto [ec] = co_await stream.async_flush(as_values);
                flush_error = ec;
            };
            auto waiting_write = [&]() -> asio::awaitable<void> {
                auto [ec, n] = co_await asio::async_write(stream, asio::buffer("pong", 4), as_values);
                write_error = ec;
            };
            auto drop = [&]() -> asio::awaitable<void> {
                co_await asio::post(asio::use_awaitable);
                error_code ignored;
                beast::get_lowest_layer(stream).close(ignored);  // what the session's abort does
                co_return;
            };
            co_await (flush() && waiting_write() && drop());
            EXPECT_TRUE(flush_error) << "the flush failed";
            EXPECT_TRUE(write_error) << "the write waiting behind it failed too, instead of hanging";
        },
        8 * 1024);
}

TEST(batching_stream, write_now_sends_behind_what_is_held_and_refuses_while_a_write_is_in_flight)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        stream.open_batch();
        co_await write_text(stream, "held");
        error_code ec;
        EXPECT_TRUE(stream.write_now(asio::buffer("now", 3), ec));
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{7})) << "one write, the held bytes first";
        EXPECT_EQ(co_await read_exactly(client, 7), "heldnow");
    });
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            std::string const big(std::size_t{1} << 20, 'x');
            auto write_big = [&]() -> asio::awaitable<void> { co_await write_text(stream, big); };
            auto try_now = [&]() -> asio::awaitable<void> {
                error_code ec;
                require(!stream.write_now(asio::buffer("now", 3), ec), "refused: it would go around the write");
                auto const got = co_await read_exactly(client, big.size());
                require(got.find('n') == std::string::npos, "nothing went around the write in flight");
            };
            co_await (write_big() && try_now());
        },
        8 * 1024);
}

// Rule 7: a lone frame (two buffers, as the session frames a message: header and payload).
std::array<asio::const_buffer, 2> lone_frame(std::string const& header, std::string const& payload)
{
    return {asio::buffer(header), asio::buffer(payload)};
}

TEST(batching_stream, a_lone_frame_for_an_idle_layer_leaves_at_once_in_one_write)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        std::string const header = "h:";
        std::string const payload = "lone";
        error_code ec;
        EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::sent);
        EXPECT_FALSE(ec);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{6})) << "one write, header and payload";
        EXPECT_FALSE(stream.holds_writes());
        EXPECT_EQ(stream.take_writes(), 1u);
        EXPECT_EQ(co_await read_exactly(client, 6), "h:lone");
    });
}

TEST(batching_stream, a_lone_frame_is_refused_while_a_batch_is_open_or_holds_writes)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        std::string const header = "h:";
        std::string const payload = "lone";
        error_code ec;
        stream.open_batch();
        EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::refused)
            << "a batch is open: the frame would go around it";
        co_await write_text(stream, "held");
        error_code flushed;
        EXPECT_TRUE(stream.flush_now(flushed));
        EXPECT_FALSE(flushed);
        EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::sent)
            << "idle again after the flush";
        EXPECT_FALSE(ec);
        EXPECT_EQ(co_await read_exactly(client, 10), "heldh:lone");
    });
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            std::string const big(std::size_t{1} << 20, 'x');
            auto write_big = [&]() -> asio::awaitable<void> { co_await write_text(stream, big); };
            auto try_lone = [&]() -> asio::awaitable<void> {
                std::string const header = "h:";
                std::string const payload = "lone";
                error_code ec;
                require(stream.write_lone_frame(lone_frame(header, payload), ec) == layer::lone_write::refused,
                        "refused: it would go around the write in flight");
                auto const got = co_await read_exactly(client, big.size());
                require(got.find('h') == std::string::npos, "nothing went around the write in flight");
            };
            co_await (write_big() && try_lone());
        },
        8 * 1024);
}

TEST(batching_stream, what_the_socket_does_not_take_of_a_lone_frame_is_held_and_leaves_before_the_next_write)
{
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            std::string const header = "h:";
            std::string const payload(std::size_t{1} << 20, 'x');
            error_code ec;
            EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::rest_held)
                << "a client that does not read takes part of 1 MiB";
            EXPECT_FALSE(ec);
            EXPECT_TRUE(stream.holds_writes());
            EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::refused)
                << "the next lone frame would go around the rest";
            auto next = [&]() -> asio::awaitable<void> { co_await write_text(stream, "next"); };
            auto peer = [&]() -> asio::awaitable<void> {
                auto const got = co_await read_exactly(client, header.size() + payload.size() + 4);
                require(got == header + payload + "next", "the whole frame, then the next write");
            };
            co_await (next() && peer());
            EXPECT_EQ(stream.held_capacity(), 0u);
        },
        8 * 1024);
}

TEST(batching_stream, a_lone_frame_after_a_write_error_is_refused_with_that_error)
{
    with_layer([](layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
        stream.next_layer().fail_next_write = asio::error::connection_reset;
        auto [failed, n] = co_await asio::async_write(stream, asio::buffer("abc", 3), as_values);
        EXPECT_EQ(failed, asio::error::connection_reset);
        std::string const header = "h:";
        std::string const payload = "lone";
        error_code ec;
        EXPECT_EQ(stream.write_lone_frame(lone_frame(header, payload), ec), layer::lone_write::refused);
        EXPECT_EQ(ec, asio::error::connection_reset);
        EXPECT_EQ(stream.next_layer().writes.size(), 1u) << "the socket was not asked again";
    });
}

// Rule 7 where the socket cannot be written without waiting (as over TLS): a lone frame is held
// and its flush started at once; the handler hears when it is out.
void with_awaited_layer(std::function<asio::awaitable<void>(awaited_layer&, tcp::socket&)> const& body,
                        int buffer_bytes = 0)
{
    run_client([&]() -> asio::awaitable<void> {
        auto [server, client] = co_await connect_pair(buffer_bytes);
        awaited_layer stream(std::move(server));
        co_await body(stream, client);
    });
}

// What a flush_lone_frame handler reports, and a timer it cancels, to await it.
struct flush_report {
    explicit flush_report(asio::any_io_executor const& ex)
        : called(ex, asio::steady_timer::time_point::max())
    {
    }
    auto handler()
    {
        return [this](error_code ec) {
            result = ec;
            called.cancel();
        };
    }
    asio::awaitable<error_code> wait()
    {
        if (!result)
            co_await called.async_wait(as_values);
        co_return result.value_or(asio::error::operation_aborted);
    }
    std::optional<error_code> result;
    asio::steady_timer called;
};

TEST(batching_stream, where_the_socket_must_be_awaited_a_lone_frame_leaves_in_one_write_started_at_once)
{
    with_awaited_layer([](awaited_layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        std::string const header = "h:";
        std::string const payload = "lone";
        flush_report report(co_await asio::this_coro::executor);
        EXPECT_TRUE(stream.flush_lone_frame(lone_frame(header, payload), report.handler()));
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{6})) << "under way, header and payload";
        EXPECT_FALSE(report.result.has_value()) << "the handler is not called from inside the call";
        EXPECT_FALSE(stream.batch_open()) << "the flush closed the batch";
        EXPECT_FALSE(co_await report.wait()) << "out, without an error";
        EXPECT_EQ(co_await read_exactly(client, 6), "h:lone");
        EXPECT_FALSE(stream.holds_writes());
        EXPECT_EQ(stream.held_capacity(), 0u);
        EXPECT_EQ(stream.take_writes(), 1u);

        flush_report again(co_await asio::this_coro::executor);
        EXPECT_TRUE(stream.flush_lone_frame(lone_frame(header, "next"), again.handler())) << "idle again";
        EXPECT_FALSE(co_await again.wait());
        EXPECT_EQ(co_await read_exactly(client, 6), "h:next");
    });
}

TEST(batching_stream, where_the_socket_must_be_awaited_a_lone_frame_is_refused_unless_the_layer_is_idle)
{
    with_awaited_layer(
        [](awaited_layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            std::string const header = "h:";
            std::string const payload = "lone";
            flush_report unused(co_await asio::this_coro::executor);
            stream.open_batch();
            EXPECT_FALSE(stream.flush_lone_frame(lone_frame(header, payload), unused.handler()))
                << "a batch is open: the frame would go around it";
            auto [held, n] = co_await asio::async_write(stream, asio::buffer("held", 4), as_values);
            EXPECT_FALSE(held);
            error_code ec;
            EXPECT_FALSE(stream.flush_now(ec)) << "the socket cannot be written without waiting";
            EXPECT_FALSE(ec);
            EXPECT_FALSE(stream.flush_lone_frame(lone_frame(header, payload), unused.handler()))
                << "the layer holds writes: the frame would go around them";

            auto flush = [&]() -> asio::awaitable<void> {
                auto [flushed] = co_await stream.async_flush(as_values);
                require(!flushed, "the flush succeeds once the peer reads");
            };
            auto try_lone = [&]() -> asio::awaitable<void> {
                require(!stream.flush_lone_frame(lone_frame(header, payload), unused.handler()),
                        "refused: a write is in flight");
                require(co_await read_exactly(client, 4) == "held", "nothing went around the write in flight");
            };
            co_await (flush() && try_lone());

            std::string const too_large(write_batch::limits{}.max_write_held + 1, 'x');
            EXPECT_FALSE(stream.flush_lone_frame(lone_frame(header, too_large), unused.handler()))
                << "larger than a batch holds";
            EXPECT_FALSE(stream.batch_open());
            EXPECT_FALSE(stream.holds_writes());
            EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{4}));
            EXPECT_FALSE(unused.result.has_value()) << "a refused frame's handler is never called";
        },
        8 * 1024);
}

TEST(batching_stream, where_the_socket_must_be_awaited_a_lone_frame_that_fails_reports_it_and_fails_later_writes)
{
    with_awaited_layer([](awaited_layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
        std::string const header = "h:";
        std::string const payload = "lone";
        stream.next_layer().fail_next_write = asio::error::connection_reset;
        flush_report report(co_await asio::this_coro::executor);
        EXPECT_TRUE(stream.flush_lone_frame(lone_frame(header, payload), report.handler()));
        EXPECT_EQ(co_await report.wait(), asio::error::connection_reset);
        flush_report later(co_await asio::this_coro::executor);
        EXPECT_FALSE(stream.flush_lone_frame(lone_frame(header, payload), later.handler()));
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer("d", 1), as_values);
        EXPECT_EQ(ec, asio::error::connection_reset) << "a later write fails with the same error";
        EXPECT_EQ(stream.next_layer().writes.size(), 1u) << "the socket was not asked again";
    });
}

// Rule 8: the writer's own frames join the open batch, in order with what Beast writes.
TEST(batching_stream, a_frame_of_the_writers_own_joins_the_open_batch_in_order)
{
    with_layer([](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
        std::string const header = "h:";
        std::string const payload = "own";
        EXPECT_FALSE(stream.hold_frame(lone_frame(header, payload))) << "no batch is open";
        stream.open_batch();
        EXPECT_TRUE(stream.hold_frame(lone_frame(header, payload)));
        co_await write_text(stream, "beast");
        EXPECT_TRUE(stream.hold_frame(lone_frame(header, payload)));
        EXPECT_TRUE(stream.next_layer().writes.empty()) << "all held";
        auto [ec] = co_await stream.async_flush(as_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(stream.next_layer().writes, (std::vector<std::size_t>{15})) << "one write";
        EXPECT_EQ(co_await read_exactly(client, 15), "h:ownbeasth:own");
    });
}

TEST(batching_stream, a_frame_of_the_writers_own_is_refused_past_the_bounds_and_while_a_write_is_in_flight)
{
    with_layer([](layer& stream, tcp::socket& /*client*/) -> asio::awaitable<void> {
        stream.set_limits({8, 64, 8});
        stream.open_batch();
        std::string const header = "h:";
        std::string const payload = "too long";
        EXPECT_FALSE(stream.hold_frame(lone_frame(header, payload))) << "over the bound of one write held";
        EXPECT_FALSE(stream.holds_writes());
        co_return;
    });
    with_layer(
        [](layer& stream, tcp::socket& client) -> asio::awaitable<void> {
            std::string const big(std::size_t{1} << 20, 'x');
            auto write_big = [&]() -> asio::awaitable<void> { co_await write_text(stream, big); };
            auto try_hold = [&]() -> asio::awaitable<void> {
                std::string const header = "h:";
                std::string const payload = "own";
                stream.open_batch();
                require(!stream.hold_frame(lone_frame(header, payload)), "refused: a write is in flight");
                require(!stream.holds_writes(), "nothing held");
                // The rest of the big write may now be held in the batch: it leaves with the flush.
                auto [ec] = co_await stream.async_flush(as_values);
                require(!ec, "the flush succeeds");
            };
            auto peer = [&]() -> asio::awaitable<void> {
                auto const got = co_await read_exactly(client, big.size());
                require(got.find('h') == std::string::npos, "nothing went around the write in flight");
            };
            co_await (write_big() && try_hold() && peer());
        },
        8 * 1024);
}

// Through Beast: a websocket stream on the layer, and a raw client that sees the bytes as sent.
struct websocket_pair {
    websocket::stream<layer> server;
    raw_connection client;
};

// As the server does it, the upgrade request is read from the socket before the layer is put on
// it: only frames pass through the layer (its rule 9 counts them).
asio::awaitable<websocket_pair> upgraded_pair()
{
    auto const ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(ex, {asio::ip::address_v4::loopback(), 0});
    auto client = co_await raw_connection::connect(acceptor.local_endpoint().port());
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    std::optional<websocket::stream<layer>> upgraded;
    auto accept = [&]() -> asio::awaitable<void> {
        beast::flat_buffer bytes;
        http::request<http::string_body> request;
        co_await http::async_read(socket, bytes, request, asio::use_awaitable);
        upgraded.emplace(std::move(socket));
        co_await upgraded->async_accept(request, asio::use_awaitable);
    };
    co_await (accept() && client.upgrade("/"));
    auto server = std::move(*upgraded);
    server.next_layer().next_layer().writes.clear();  // from here on, frames only
    co_return websocket_pair{std::move(server), std::move(client)};
}

TEST(batching_stream, a_pong_beast_sends_during_a_batch_joins_it_in_beasts_order)
{
    run_client([]() -> asio::awaitable<void> {
        // Named references, not a structured binding: clang 14 cannot capture bindings in lambdas.
        auto pair = co_await upgraded_pair();
        auto& ws = pair.server;
        auto& client = pair.client;
        auto& writes = ws.next_layer().next_layer().writes;
        bool pinged = false;
        ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::ping)
                pinged = true;
        });
        beast::flat_buffer buffer;
        error_code read_error;
        auto server_reads = [&]() -> asio::awaitable<void> {
            auto [ec, n] = co_await ws.async_read(buffer, as_values);  // answers the ping meanwhile
            read_error = ec;
        };
        auto server_writes = [&]() -> asio::awaitable<void> {
            std::string const a = "A";
            std::string const b = "B";
            auto ping = raw_connection::frame(9, "p");
            auto end = raw_connection::frame(1, "end");
            ws.next_layer().open_batch();
            co_await ws.async_write(asio::buffer(a), asio::use_awaitable);
            co_await client.write(std::move(ping));
            co_await eventually([&] { return pinged; }, "the server got the ping");
            co_await ws.async_write(asio::buffer(b), asio::use_awaitable);
            require(writes.empty(), "the frames and the pong are held");
            auto [ec] = co_await ws.next_layer().async_flush(as_values);
            require(!ec && writes.size() == 1, "they leave in one write");

            auto const first = co_await client.read_frame();
            auto const pong = co_await client.read_frame();
            auto const second = co_await client.read_frame();
            require(first.opcode == 1 && first.payload == a, "first the frame written before the ping");
            require(pong.opcode == 10 && pong.payload == "p", "then the pong");
            require(second.opcode == 1 && second.payload == b, "then the frame written after it");
            co_await client.write(std::move(end));  // lets the server's read finish
        };
        co_await (server_reads() && server_writes());
        EXPECT_FALSE(read_error);
    });
}

TEST(batching_stream, a_close_reply_during_a_batch_leaves_after_what_is_held_then_the_socket_is_shut)
{
    run_client([]() -> asio::awaitable<void> {
        // Named references, not a structured binding: clang 14 cannot capture bindings in lambdas.
        auto pair = co_await upgraded_pair();
        auto& ws = pair.server;
        auto& client = pair.client;
        auto& writes = ws.next_layer().next_layer().writes;
        std::string const a = "A";
        ws.next_layer().open_batch();
        co_await ws.async_write(asio::buffer(a), asio::use_awaitable);

        beast::flat_buffer buffer;
        error_code read_error;
        auto server_reads = [&]() -> asio::awaitable<void> {
            // The peer's close: Beast writes its reply (into the open batch), then tears the
            // connection down, which flushes the batch first.
            auto [ec, n] = co_await ws.async_read(buffer, as_values);
            read_error = ec;
        };
        auto peer = [&]() -> asio::awaitable<void> {
            auto closing = std::move(client);  // closed when this returns: the teardown reads to the end
            auto close = raw_connection::close_frame(1000, "bye");
            co_await closing.write(std::move(close));
            auto const held = co_await closing.read_frame();
            auto const reply = co_await closing.read_frame();
            require(held.opcode == 1 && held.payload == a, "first what the batch held");
            require(reply.opcode == 8 && reply.close_code() == 1000, "then the close reply");
            require(co_await closing.closed_by_server(), "then the server shut its side");
        };
        co_await (server_reads() && peer());
        EXPECT_EQ(read_error, websocket::error::closed);
        EXPECT_EQ(writes.size(), 1u) << "the held frame and the close reply left in one write";
    });
}

// Rule 9: what Beast reads through the layer is counted on the way up, whole messages only. A
// reader that has read one message of several that arrived together knows Beast holds the others;
// a message that has only partly arrived does not count.
TEST(batching_stream, counts_the_whole_messages_beast_has_read_through_it)
{
    run_client([]() -> asio::awaitable<void> {
        auto pair = co_await upgraded_pair();
        auto& ws = pair.server;
        auto& client = pair.client;
        auto const& counted = ws.next_layer();
        EXPECT_EQ(counted.messages_received(), 0u);

        // One TCP write, which Beast reads at once: a message, a ping, a message in two
        // fragments, and a binary message.
        auto together = raw_connection::frame(1, "one") + raw_connection::frame(9, "ping") +
                        raw_connection::frame(1, "two, in", false) + raw_connection::frame(0, " two fragments") +
                        raw_connection::frame(2, "three");
        co_await client.write(std::move(together));
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, asio::use_awaitable);
        EXPECT_EQ(beast::buffers_to_string(buffer.data()), "one");
        EXPECT_EQ(counted.messages_received(), 3u) << "Beast holds two more messages";
        buffer.clear();
        co_await ws.async_read(buffer, asio::use_awaitable);
        EXPECT_EQ(beast::buffers_to_string(buffer.data()), "two, in two fragments");
        buffer.clear();
        co_await ws.async_read(buffer, asio::use_awaitable);
        EXPECT_EQ(counted.messages_received(), 3u) << "all three read: Beast holds no more";

        // A message and the first half of the next.
        auto const fifth = raw_connection::frame(1, std::string(100, 'x'));
        co_await client.write(raw_connection::frame(1, "four") + fifth.substr(0, 50));
        buffer.clear();
        co_await ws.async_read(buffer, asio::use_awaitable);
        EXPECT_EQ(beast::buffers_to_string(buffer.data()), "four");
        EXPECT_EQ(counted.messages_received(), 4u) << "half a message is not one";
        co_await client.write(fifth.substr(50));
        buffer.clear();
        co_await ws.async_read(buffer, asio::use_awaitable);
        EXPECT_EQ(buffer.size(), 100u);
        EXPECT_EQ(counted.messages_received(), 5u);
    });
}

}  // namespace
}  // namespace coropush::net
