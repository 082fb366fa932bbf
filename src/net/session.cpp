// One TCP connection, start to end, as one coroutine you can read top to bottom:
//
//   run_session
//     tls_handshake       with --tls-cert only: await the TLS handshake (core/tls_transport.hpp)
//     serve_http          await each HTTP request; answer files and endpoints; stop at an upgrade
//                         (net/http_session.cpp)
//     run_websocket       await the WebSocket handshake, then start the session's reader as a
//                         coroutine of its own, and return (net/websocket_session_impl.hpp)
//
// The frame of run_session holds the connection state during the HTTP part; the socket (moved in
// by the listener) moves on into the HTTP part, which hands it back with an accepted upgrade, and
// then into the WebSocket session, which takes over the connection state too. So once a session
// is established this frame is gone: an idle WebSocket session costs its reader and its state,
// nothing more. Every co_await below and in the two parts runs on the connection's executor (its
// shard's strand when the server runs on more than one thread).
//
// TLS is a layer under the rest: after its handshake, the HTTP part and the WebSocket session run
// the same code on the TLS stream as on the plain socket (each is a template over the stream,
// with one overload per transport).
#include "net/session.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "core/tls_transport.hpp"
#include "net/connection.hpp"
#include "net/http_session.hpp"
#include "net/session_context.hpp"
#include "net/websocket_session.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace coropush::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// The TLS handshake, within the handshake timeout (the tcp_stream's timer). A client that fails
// it gets nothing more: plain HTTP sent to this port, a client that does not trust the
// certificate, no version or cipher in common. A client that leaves before it is done (a port
// probe, a load balancer's TCP check) is no failure worth counting.
asio::awaitable<bool> tls_handshake(tls_stream& stream, connection& conn, session_context& server)
{
    beast::get_lowest_layer(stream).expires_after(server.options.handshake_timeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, nothrow);
    if (!ec)
        co_return true;
    if (ec == beast::error::timeout) {
        server.stats.handshake_failed(handshake_failure::timeout);
        log_info(conn.id(), "TLS handshake not complete within ", millis(server.options.handshake_timeout),
                 ": dropped");
    } else if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof ||
               ec == asio::error::connection_reset) {
        log_debug(conn.id(), "client left during the TLS handshake");
    } else {
        server.stats.handshake_failed(handshake_failure::tls);
        log_info(conn.id(), "TLS handshake failed: ", ec.message());
    }
    co_return false;
}

// 1. HTTP until an upgrade is accepted (or the client is done): the stream moves into the HTTP
//    part, and comes back with the upgrade. 2. The WebSocket session: the handshake, then the
//    reader runs on by itself. `Stream` is the plain tcp_stream or the TLS stream.
template <class Stream>
asio::awaitable<void> serve(Stream stream, std::shared_ptr<connection> conn, std::shared_ptr<session_context> server,
                            connection_registry::entry listed, session_context::http_slot& http_slot)
{
    // (clang-tidy 14 takes the co_awaits of a coroutine template for uses of the parameter moved
    // below: a false positive.)
    auto upgrade = co_await serve_http(std::move(stream), *conn, *server);  // NOLINT(bugprone-use-after-move)
    http_slot.release();  // a WebSocket session now, or about to end: no longer in the HTTP part
    if (!upgrade)
        co_return;
    co_await run_websocket(std::move(*upgrade), conn, std::move(server), std::move(listed));
}

}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, std::shared_ptr<session_context> server, std::size_t shard,
                                  session_context::http_slot http_slot)
{
    // Everything this connection uses is owned by this coroutine's frame (the socket, the
    // connection state) or kept alive by it (`server`, which serve gets a copy of: this frame's
    // locals, `conn` and `listed`, refer to the server's state and must go first, even when the
    // io_context is destroyed with this coroutine in it). The connection is allocated apart from
    // its shared_ptr's control block: the deadline scheduler holds weak references, which would
    // otherwise keep the whole object's memory until their time comes.
    std::shared_ptr<connection> const conn(new connection(  // NOLINT(modernize-make-shared): see above
        co_await asio::this_coro::executor, server->next_connection_id(), shard, server->outbound_limits(),
        server->timing(), server->deadlines, server->stats));
    connection_registry::entry listed(server->registry, conn);
    server->stats.tcp_connections_open.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small pushes go out now, not after Nagle's delay

    if (!server->tls) {
        co_await serve(beast::tcp_stream(std::move(socket)), conn, server, std::move(listed), http_slot);
        co_return;
    }
    // 0. With --tls-cert, TLS first, with the certificate loaded last (a reload on SIGHUP
    //    changes it for connections accepted afterwards; this one keeps what it starts with).
    tls_stream stream(std::move(socket), *server->tls->current());
    if (co_await tls_handshake(stream, *conn, *server))
        co_await serve(std::move(stream), conn, server, std::move(listed), http_slot);
}

}  // namespace coropush::net
