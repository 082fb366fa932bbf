// tls_transport on a real TLS connection over loopback (a certificate made by the test): what a
// read fills, what one write_some sends of a gathered sequence (the buffers that fit in 16 KiB,
// copied into one; a larger first buffer alone), that whole gathered writes arrive byte for byte
// and in order, and that the type-erased handler still completes on the executor it was bound to.
#include "core/tls_transport.hpp"
#include "net/tls_credentials.hpp"
#include "support/test_certificates.hpp"
#include "support/test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace coropush::net {
namespace {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using coropush::testing::require;
using coropush::testing::run_client;
using coropush::testing::test_certificates;
using error_code = boost::system::error_code;
constexpr auto tls_values = asio::as_tuple(asio::use_awaitable);

struct tls_pair {
    tls_transport server;
    ssl::stream<tcp::socket> client;
};

// A loopback connection, the server's end as a session has it (a tls_transport over the TLS
// stream), both ends through their TLS handshake.
asio::awaitable<tls_pair> handshaken_pair(ssl::context& server_context, ssl::context& client_context)
{
    auto const ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(ex, {asio::ip::address_v4::loopback(), 0});
    ssl::stream<tcp::socket> client(ex, client_context);
    co_await client.next_layer().async_connect(acceptor.local_endpoint(), asio::use_awaitable);
    tls_stream server(co_await acceptor.async_accept(asio::use_awaitable), server_context);
    co_await (server.async_handshake(ssl::stream_base::server, asio::use_awaitable) &&
              client.async_handshake(ssl::stream_base::client, asio::use_awaitable));
    co_return tls_pair{tls_transport(std::move(server)), std::move(client)};
}

// Runs `body` with a fresh handshaken pair.
void with_tls_pair(std::function<asio::awaitable<void>(tls_transport&, ssl::stream<tcp::socket>&)> const& body)
{
    test_certificates const certificates;
    tls_credentials const credentials(certificates.cert_file().string(), certificates.key_file().string());
    ssl::context client_context(ssl::context::tls_client);
    client_context.load_verify_file(certificates.ca_file().string());
    client_context.set_verify_mode(ssl::verify_peer);
    auto const server_context = credentials.current();
    run_client([&]() -> asio::awaitable<void> {
        auto [server, client] = co_await handshaken_pair(*server_context, client_context);
        co_await body(server, client);
    });
}

asio::awaitable<std::string> read_tls_exactly(ssl::stream<tcp::socket>& client, std::size_t bytes)
{
    std::string text(bytes, '\0');
    co_await asio::async_read(client, asio::buffer(text), asio::use_awaitable);
    co_return text;
}

TEST(tls_transport, one_write_some_sends_the_buffers_that_fit_in_a_record_together)
{
    with_tls_pair([](tls_transport& server, ssl::stream<tcp::socket>& client) -> asio::awaitable<void> {
        std::string const a(100, 'a');
        std::string const b(6'000, 'b');
        std::string const c(10'000, 'c');
        std::array const gathered{asio::buffer(a), asio::const_buffer(), asio::buffer(b), asio::buffer(c)};
        auto [ec, sent] = co_await server.async_write_some(gathered, tls_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(sent, a.size() + b.size() + c.size()) << "16 100 bytes fit in one record: one write takes them all";
        EXPECT_EQ(co_await read_tls_exactly(client, sent), a + b + c);
    });
}

TEST(tls_transport, one_write_some_stops_before_the_buffer_that_would_pass_16_kib)
{
    with_tls_pair([](tls_transport& server, ssl::stream<tcp::socket>& client) -> asio::awaitable<void> {
        std::string const a(10'000, 'a');
        std::string const b(10'000, 'b');
        std::array const gathered{asio::buffer(a), asio::buffer(b)};
        auto [ec, sent] = co_await server.async_write_some(gathered, tls_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(sent, a.size()) << "the second buffer would pass 16 KiB: the first leaves alone";
        EXPECT_EQ(co_await read_tls_exactly(client, sent), a);
    });
}

TEST(tls_transport, a_gathered_write_of_every_size_arrives_whole_and_in_order)
{
    with_tls_pair([](tls_transport& server, ssl::stream<tcp::socket>& client) -> asio::awaitable<void> {
        std::vector<std::string> pieces;
        std::string expected;
        char fill = 'a';
        for (std::size_t const size : {1u, 16'384u, 0u, 9'000u, 40'000u, 7u, 16'383u, 2u, 30'000u, 500u})
            expected += pieces.emplace_back(size, fill++);
        std::vector<asio::const_buffer> gathered;
        gathered.reserve(pieces.size());
        for (auto const& piece : pieces)
            gathered.push_back(asio::buffer(piece));
        auto written = asio::async_write(server, gathered, tls_values);
        auto read = read_tls_exactly(client, expected.size());
        auto [ec, sent, arrived] = co_await (std::move(written) && std::move(read));
        EXPECT_FALSE(ec);
        EXPECT_EQ(sent, expected.size());
        EXPECT_TRUE(arrived == expected) << "the bytes differ";
    });
}

TEST(tls_transport, a_read_fills_the_first_buffer_that_is_not_empty)
{
    with_tls_pair([](tls_transport& server, ssl::stream<tcp::socket>& client) -> asio::awaitable<void> {
        co_await asio::async_write(client, asio::buffer(std::string("hello, tls")), asio::use_awaitable);
        std::array<char, 4> first{};
        std::array<char, 64> second{};
        std::array const into{asio::mutable_buffer(), asio::buffer(first), asio::buffer(second)};
        auto [ec, got] = co_await server.async_read_some(into, tls_values);
        EXPECT_FALSE(ec);
        EXPECT_EQ(got, first.size()) << "a read_some fills one buffer, as the TLS stream's own does";
        EXPECT_EQ(std::string(first.data(), std::min(got, first.size())), "hell");
    });
}

TEST(tls_transport, a_handler_bound_to_a_strand_completes_on_it)
{
    with_tls_pair([](tls_transport& server, ssl::stream<tcp::socket>& client) -> asio::awaitable<void> {
        auto strand = asio::make_strand(co_await asio::this_coro::executor);
        co_await asio::async_write(client, asio::buffer(std::string("x")), asio::use_awaitable);
        std::array<char, 8> into{};
        bool on_strand = false;
        std::size_t got = 0;
        co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
            [&](auto done) {
                server.async_read_some(
                    asio::buffer(into),
                    asio::bind_executor(strand, [&, done = std::move(done)](error_code ec, std::size_t n) mutable {
                        require(!ec, "the read succeeds");
                        on_strand = strand.running_in_this_thread();
                        got = n;
                        std::move(done)();
                    }));
            },
            asio::use_awaitable);
        EXPECT_EQ(got, 1u);
        EXPECT_TRUE(on_strand) << "the type-erased handler kept the executor it was bound to";
    });
}

}  // namespace
}  // namespace coropush::net
