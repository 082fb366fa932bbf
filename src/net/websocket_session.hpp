// The WebSocket part of a session: the handshake, then the session's coroutines until it ends.
#pragma once

#include "core/tls_transport.hpp"
#include "net/registry.hpp"
#include "net/upgrade.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace coropush::net {

class connection;
class session_context;

// Takes over the socket from the HTTP part and completes the upgrade; then starts the session's
// reader, which runs until the connection is over (closed by either side, dropped, or aborted at
// shutdown), and returns. The session keeps `conn` listed in the registry (`listed`).
// One overload per transport (the TCP socket, the TLS stream), the same code behind both.
boost::asio::awaitable<void> run_websocket(upgrade_to_websocket<boost::asio::ip::tcp::socket> upgrade,
                                           std::shared_ptr<connection> conn, std::shared_ptr<session_context> server,
                                           connection_registry::entry listed);
boost::asio::awaitable<void> run_websocket(upgrade_to_websocket<tls_stream> upgrade, std::shared_ptr<connection> conn,
                                           std::shared_ptr<session_context> server, connection_registry::entry listed);

}  // namespace coropush::net
