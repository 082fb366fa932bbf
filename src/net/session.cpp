// One TCP connection, start to end, as one coroutine you can read top to bottom:
//
//   run_session
//     serve_http          await each HTTP request; answer files and endpoints; stop at an upgrade
//                         (net/http_session.cpp)
//     run_websocket       await the WebSocket handshake, then start the session's reader as a
//                         coroutine of its own, and return (net/websocket_session.cpp)
//
// The frame of run_session holds the connection state during the HTTP part; the socket (moved in
// by the listener) moves on into the HTTP part, which hands it back with an accepted upgrade, and
// then into the WebSocket session, which takes over the connection state too. So once a session
// is established this frame is gone: an idle WebSocket session costs its reader and its state,
// nothing more. Every co_await below and in the two parts runs on the connection's executor (its
// strand when the server runs on more than one thread).
#include "net/session.hpp"

#include "net/connection.hpp"
#include "net/http_session.hpp"
#include "net/server_state.hpp"
#include "net/websocket_session.hpp"

#include <boost/asio/this_coro.hpp>

namespace coropush::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::awaitable<void> run_session(tcp::socket socket, std::shared_ptr<server_state> server)
{
    // Everything this connection uses is owned by this coroutine's frame (the socket, the
    // connection state) or kept alive by it (`server`). The connection is allocated apart from
    // its shared_ptr's control block: the deadline scheduler holds weak references, which would
    // otherwise keep the whole object's memory until their time comes.
    std::shared_ptr<connection> const conn(new connection(  // NOLINT(modernize-make-shared): see above
        co_await asio::this_coro::executor, server->next_connection_id(), server->outbound_limits(), server->timing(),
        server->deadlines, server->stats));
    connection_registry::entry listed(server->registry, conn);
    server->stats.tcp_connections_open.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small pushes go out now, not after Nagle's delay

    // 1. HTTP until an upgrade is accepted (or the client is done). The socket moves into the
    //    HTTP part, and comes back with the upgrade.
    auto upgrade = co_await serve_http(std::move(socket), *conn, *server);
    if (!upgrade)
        co_return;

    // 2. The WebSocket session: the handshake, then the reader runs on by itself.
    co_await run_websocket(std::move(*upgrade), conn, std::move(server), std::move(listed));
}

}  // namespace coropush::net
