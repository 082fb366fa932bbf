// The load tool's connection. Over TLS, every read and write goes through an ssl::stream over the
// same socket; which stream is chosen once per I/O operation (on_stream), never per byte, so the
// plain path is the code it was.
#include "load/ws_conn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <tuple>
#include <utility>

namespace bench {
namespace asio = boost::asio;
namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}

// Over the connection's own socket, held by reference: drop() closes the socket, and that ends
// the TLS stream's operations too.
struct ws_conn::tls_layer {
    tls_layer(asio::ip::tcp::socket& socket, asio::ssl::context& context)
        : stream(socket, context)
    {
    }
    asio::ssl::stream<asio::ip::tcp::socket&> stream;
};

ws_conn::ws_conn(asio::any_io_executor executor)
    : socket_(executor)
{
}

ws_conn::~ws_conn() = default;

// Both branches return the same awaitable type (the completion is as_tuple(use_awaitable) on an
// any_io_executor either way), so the caller awaits one thing.
template <class Operation>
auto ws_conn::on_stream(Operation&& operation)
{
    return tls_ ? operation(tls_->stream) : operation(socket_);
}

asio::awaitable<std::string> ws_conn::open(target const& where, std::string_view subprotocol)
{
    auto [connect_error] = co_await socket_.async_connect(where.endpoint, nothrow);
    if (connect_error)
        co_return "connect: " + connect_error.message();
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (where.tls) {
        // A full handshake every time: the tool keeps no sessions to resume, so churn measures
        // what a new client costs the server.
        tls_ = std::make_unique<tls_layer>(socket_, *where.tls);
        auto [handshake_error] = co_await tls_->stream.async_handshake(asio::ssl::stream_base::client, nothrow);
        if (handshake_error)
            co_return "TLS handshake: " + handshake_error.message();
    }
    auto const request = upgrade_request(where.host, where.path, subprotocol);
    if (!co_await write(request))
        co_return "upgrade request not sent";

    std::string response;
    auto [read_error, n] = co_await on_stream([&](auto& stream) {
        return asio::async_read_until(stream, asio::dynamic_buffer(response), "\r\n\r\n", nothrow);
    });
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
    auto [ec, n] = co_await on_stream(
        [&](auto& stream) { return asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()), nothrow); });
    co_return !ec;
}

void ws_conn::record_arrival_times()
{
    int const on = 1;
    arrival_times_ = !tls_ && ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
}

long receive_stamped(int descriptor, void* data, std::size_t size, int flags,
                     std::optional<std::chrono::system_clock::time_point>& arrival) noexcept
{
    iovec io{data, size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    auto const n = ::recvmsg(descriptor, &message, flags);
    arrival.reset();
    if (n <= 0)
        return n;
    for (auto* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec at{};
            std::memcpy(&at, CMSG_DATA(c), sizeof at);
            arrival =
                std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::seconds(at.tv_sec) + std::chrono::nanoseconds(at.tv_nsec)));
        }
    }
    return n;
}

asio::awaitable<std::pair<boost::system::error_code, std::size_t>> ws_conn::read_with_arrival_time()
{
    for (;;) {
        auto const room = buffer_.prepare();
        std::optional<std::chrono::system_clock::time_point> arrival;
        auto const n = receive_stamped(socket_.native_handle(), room.data(), room.size(), MSG_DONTWAIT, arrival);
        if (n > 0) {
            last_arrival_ = arrival;  // this read's, or none
            co_return std::pair{boost::system::error_code{}, static_cast<std::size_t>(n)};
        }
        if (n == 0)
            co_return std::pair{boost::system::error_code(asio::error::eof), std::size_t{0}};
        if (errno != EAGAIN && errno != EINTR)  // (EWOULDBLOCK is EAGAIN on Linux)
            co_return std::pair{boost::system::error_code(errno, boost::system::system_category()), std::size_t{0}};
        auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, nothrow);
        if (ec)
            co_return std::pair{ec, std::size_t{0}};
    }
}

asio::awaitable<bool> ws_conn::read_some(message_handler const& on_message)
{
    boost::system::error_code ec;
    std::size_t n = 0;
    if (arrival_times_)
        std::tie(ec, n) = co_await read_with_arrival_time();
    else
        std::tie(ec, n) =
            co_await on_stream([&](auto& stream) { return stream.async_read_some(buffer_.prepare(), nothrow); });
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
    if (tls_) {
        // The server's teardown sends its close_notify and waits for ours before it ends TCP.
        auto [shutdown_error] = co_await tls_->stream.async_shutdown(nothrow);
        if (shutdown_error)
            co_return false;
    }
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
