// Raw TCP or TLS test client: HTTP via Beast's parser, WebSocket frames by hand.
#include "support/raw_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <cctype>
#include <random>
#include <stdexcept>
#include <variant>

#include <netinet/tcp.h>

namespace coropush::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::uint16_t ws_frame::close_code() const
{
    if (payload.size() < 2)
        return 1005;
    return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1]));
}

struct raw_connection::impl {
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    explicit impl(asio::any_io_executor const& ex)
        : stream(std::in_place_type<beast::tcp_stream>, ex)
    {
    }
    impl(asio::any_io_executor const& ex, std::shared_ptr<asio::ssl::context> context)
        : tls(std::move(context)),
          stream(std::in_place_type<tls_stream>, ex, *tls)
    {
    }

    beast::tcp_stream& transport()
    {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
    }

    // `operation(stream)` on whichever stream this is.
    template <class Operation>
    auto with_stream(Operation const& operation)
    {
        return std::visit(operation, stream);
    }

    std::shared_ptr<asio::ssl::context> tls;  // TLS only; declared first, so it outlives the stream
    std::variant<beast::tcp_stream, tls_stream> stream;
    beast::flat_buffer buffer;  // bytes read but not yet consumed
};

raw_connection::raw_connection(std::unique_ptr<impl> i)
    : impl_(std::move(i))
{
}
raw_connection::raw_connection(raw_connection&&) noexcept = default;
raw_connection& raw_connection::operator=(raw_connection&&) noexcept = default;
raw_connection::~raw_connection() = default;

asio::awaitable<raw_connection> raw_connection::connect(std::uint16_t port, int receive_buffer)
{
    auto state = std::make_unique<impl>(co_await asio::this_coro::executor);
    auto& socket = state->transport().socket();
    socket.open(tcp::v4());
    if (receive_buffer > 0) {
        socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        // And segments to match: on loopback a segment may be 64 KiB, and a receive window that
        // stays below one segment stalls the sender until its persist timer fires (backing off
        // to minutes), which a slow test run once took for a deadlock.
        using max_segment = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_MAXSEG>;
        socket.set_option(max_segment(std::max(receive_buffer / 4, 536)));
    }
    co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
    co_return raw_connection(std::move(state));
}

asio::awaitable<raw_connection> raw_connection::connect_tls(std::uint16_t port, std::string ca_file)
{
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    context->set_verify_mode(asio::ssl::verify_peer);
    context->load_verify_file(ca_file);
    auto state = std::make_unique<impl>(co_await asio::this_coro::executor, std::move(context));
    auto& tls = std::get<impl::tls_stream>(state->stream);
    tls.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    co_await state->transport().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                              asio::use_awaitable);
    co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_return raw_connection(std::move(state));
}

asio::awaitable<void> raw_connection::write(std::string bytes)
{
    auto const writing = [&](auto& stream) {
        return asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
    };
    co_await impl_->with_stream(writing);
}

asio::awaitable<http_reply> raw_connection::read_http(bool head)
{
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    auto const reading = [&](auto& stream) {
        return http::async_read(stream, impl_->buffer, parser, asio::use_awaitable);
    };
    co_await impl_->with_stream(reading);
    auto const& message = parser.get();
    http_reply reply;
    reply.status = message.result_int();
    for (auto const& field : message) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        reply.headers[name] = std::string(field.value());
    }
    reply.body = message.body();
    co_return reply;
}

asio::awaitable<bool> raw_connection::closed_by_server()
{
    auto const ec = co_await how_the_server_ended();
    co_return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated;
}

asio::awaitable<boost::system::error_code> raw_connection::how_the_server_ended()
{
    impl_->buffer.consume(impl_->buffer.size());
    auto const reading = [&](auto& stream) {
        return stream.async_read_some(impl_->buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
    };
    for (;;) {
        auto [ec, n] = co_await impl_->with_stream(reading);
        if (ec)
            co_return ec;
        impl_->buffer.commit(n);
        impl_->buffer.consume(n);
    }
}

void raw_connection::stop_sending()
{
    boost::system::error_code ignored;
    impl_->transport().socket().shutdown(tcp::socket::shutdown_send, ignored);
}

std::string raw_connection::upgrade_request(std::string_view path, std::string_view extra_headers)
{
    return "GET " + std::string(path) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
           std::string(extra_headers) + "\r\n";
}

asio::awaitable<http_reply> raw_connection::upgrade(std::string path, std::string extra_headers)
{
    co_await write(upgrade_request(path, extra_headers));
    // A 101 has no body: read the header only, and keep any frame bytes that follow in the buffer.
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    auto const reading = [&](auto& stream) {
        return http::async_read_header(stream, impl_->buffer, parser, asio::use_awaitable);
    };
    co_await impl_->with_stream(reading);
    http_reply reply;
    reply.status = parser.get().result_int();
    for (auto const& field : parser.get()) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        reply.headers[name] = std::string(field.value());
    }
    co_return reply;
}

asio::awaitable<ws_frame> raw_connection::read_frame()
{
    auto& buffer = impl_->buffer;
    auto const reading = [&](auto& stream) {
        return stream.async_read_some(buffer.prepare(4096), asio::use_awaitable);
    };
    auto need = [&](std::size_t n) -> asio::awaitable<void> {
        while (buffer.size() < n)
            buffer.commit(co_await impl_->with_stream(reading));
    };
    auto byte = [&](std::size_t i) {
        return static_cast<unsigned char>(static_cast<char const*>(buffer.data().data())[i]);
    };
    co_await need(2);
    ws_frame frame;
    frame.fin = (byte(0) & 0x80) != 0;
    frame.opcode = static_cast<std::uint8_t>(byte(0) & 0x0f);
    frame.compressed = (byte(0) & 0x40) != 0;
    if ((byte(1) & 0x80) != 0)
        throw std::runtime_error("server frames must not be masked");
    std::size_t length = byte(1) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
        co_await need(4);
        length = (std::size_t{byte(2)} << 8) | byte(3);
        header = 4;
    } else if (length == 127) {
        co_await need(10);
        length = 0;
        for (std::size_t i = 2; i < 10; ++i)
            length = (length << 8) | byte(i);
        header = 10;
    }
    co_await need(header + length);
    frame.payload.assign(static_cast<char const*>(buffer.data().data()) + header, length);
    buffer.consume(header + length);
    co_return frame;
}

std::string raw_connection::frame(std::uint8_t opcode, std::string_view payload, bool fin)
{
    static std::mt19937 random{12345};
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0f));
    if (payload.size() < 126) {
        out += static_cast<char>(0x80 | payload.size());
    } else if (payload.size() <= 0xffff) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>((payload.size() >> 8) & 0xff);
        out += static_cast<char>(payload.size() & 0xff);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((std::uint64_t{payload.size()} >> shift) & 0xff);
    }
    char mask[4];
    for (auto& m : mask)
        m = static_cast<char>(random() & 0xff);
    out.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        out += static_cast<char>(payload[i] ^ mask[i % 4]);
    return out;
}

std::string raw_connection::close_frame(std::uint16_t code, std::string_view reason)
{
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xff);
    payload += reason;
    return frame(8, payload);
}

}  // namespace coropush::testing
