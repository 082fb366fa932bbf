// The end of a TCP connection after a WebSocket close, read to the peer's end: the teardown of
// a plain socket (net/batching_stream.hpp) and the last step of a TLS one (core/tls_transport.hpp).
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>

#include <array>
#include <utility>

namespace coropush {

// The teardown of a TCP socket after a close: shut down sending (a server), then read and drop
// what the peer still sends, to its end. Beast 1.81's own (websocket/impl/teardown.hpp) stops
// after its first read, since the byte count it tests is never set, and closes: with more unread,
// such as the rest of a message over --max-message, the close resets the connection, and a
// browser that had not yet read the close frame reports 1006 instead of the 1009 it was sent.
// The socket is left open: the session hands it to the closer as it ends. A peer that never
// finishes is cut off by the close timeout (the connection's deadline aborts the socket).
template <class Socket>
struct tcp_drain_op {
    Socket& socket;
    boost::beast::role_type role;
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {})
    {
        if (!started) {
            started = true;
            socket.non_blocking(true, ec);
            if (!ec && role == boost::beast::role_type::server)
                socket.shutdown(Socket::shutdown_send, ec);
            if (ec)  // completed later, never inside the initiating call
                return boost::asio::post(socket.get_executor(), boost::asio::append(std::move(self), ec));
            return socket.async_wait(Socket::wait_read, std::move(self));
        }
        // At most 16 reads at a time, then a wait, so a peer that keeps sending does not hold the
        // io thread.
        for (int reads = 0; !ec && reads < 16; ++reads) {
            std::array<char, 2048> discard;  // NOLINT(cppcoreguidelines-pro-type-member-init): written by the read
            socket.read_some(boost::asio::buffer(discard), ec);
        }
        if (!ec || ec == boost::asio::error::would_block)
            return socket.async_wait(Socket::wait_read, std::move(self));
        if (ec == boost::asio::error::eof) {
            ec = {};
            if (role == boost::beast::role_type::client)
                socket.shutdown(Socket::shutdown_send, ec);
        }
        self.complete(ec);
    }
};

template <class Socket, class Handler>
void async_drain_teardown(boost::beast::role_type role, Socket& socket, Handler&& handler)
{
    boost::asio::async_compose<Handler, void(boost::beast::error_code)>(tcp_drain_op<Socket>{socket, role}, handler,
                                                                        socket);
}

}  // namespace coropush
