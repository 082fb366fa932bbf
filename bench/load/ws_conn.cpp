// The load tool's connection.
#include "load/ws_conn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace bench {
namespace asio = boost::asio;
namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<std::string> ws_conn::open(target const& where, std::string_view subprotocol)
{
    auto [connect_error] = co_await socket_.async_connect(where.endpoint, nothrow);
    if (connect_error)
        co_return "connect: " + connect_error.message();
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto const request = upgrade_request(where.host, where.path, subprotocol);
    if (!co_await write(request))
        co_return "upgrade request not sent";

    std::string response;
    auto [read_error, n] =
        co_await asio::async_read_until(socket_, asio::dynamic_buffer(response), "\r\n\r\n", nothrow);
    if (read_error)
        co_return "upgrade: " + read_error.message();
    if (!response.starts_with("HTTP/1.1 101"))
        co_return "upgrade refused: " + response.substr(0, response.find('\r'));
    // Bytes after the response (a frame the server sent at once) belong to the read buffer.
    buffer_.append(std::string_view(response).substr(n));
    co_return std::string();
}

asio::awaitable<bool> ws_conn::write(std::string_view bytes)
{
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), nothrow);
    co_return !ec;
}

asio::awaitable<bool> ws_conn::read_some(message_handler const& on_message)
{
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(), nothrow);
    if (ec)
        co_return false;
    buffer_.commit(n);

    bool open = true;
    for (;;) {
        frame_view frame;
        std::size_t consumed = 0;
        auto const result = parse_frame(buffer_.unread(), frame, consumed);
        if (result == parse_result::incomplete)
            break;
        if (result == parse_result::violation) {
            violation_ = true;
            open = false;
            break;
        }
        buffer_.consume(consumed);
        switch (frame.op) {
        case ping:
            append_frame(pongs_, pong, frame.payload);
            break;
        case pong:
            break;
        case close:
            closed_code_ = frame.payload.size() >= 2
                               ? static_cast<std::uint16_t>((static_cast<unsigned char>(frame.payload[0]) << 8) |
                                                            static_cast<unsigned char>(frame.payload[1]))
                               : 1005;
            open = false;
            break;
        case continuation:
            fragments_.append(frame.payload);
            if (frame.fin) {
                on_message(text, fragments_);
                fragments_.clear();
            }
            break;
        default:
            if (frame.fin) {
                on_message(frame.op, frame.payload);
            } else {
                fragments_.assign(frame.payload);
            }
        }
        if (!open)
            break;
    }
    if (!pongs_.empty()) {
        std::string pongs;
        pongs.swap(pongs_);
        co_await write(pongs);
    }
    co_return open;
}

asio::awaitable<bool> ws_conn::close_gracefully()
{
    std::string frame;
    append_frame(frame, close, std::string_view("\x03\xe8", 2));
    if (!co_await write(frame))
        co_return false;
    // The server's close frame, then its FIN.
    while (co_await read_some([](opcode, std::string_view) {}))
        ;
    if (closed_code_ == 0)
        co_return false;
    char sink[512];
    for (;;) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), nothrow);
        if (ec)
            co_return ec == asio::error::eof;
    }
}

void ws_conn::drop() noexcept
{
    boost::system::error_code ignored;
    socket_.close(ignored);
}

}  // namespace bench
