// The WebSocket part of a session: the handshake, then the session's coroutines until it ends.
#pragma once

#include "net/upgrade.hpp"

#include <boost/asio/awaitable.hpp>

namespace coropush::net {

class connection;
class server_state;

// Takes over the socket from the HTTP part, completes the upgrade, and runs the session until
// the connection is over (closed by either side, dropped, or aborted at shutdown).
boost::asio::awaitable<void> run_websocket(upgrade_to_websocket upgrade, connection& conn, server_state& server);

}  // namespace coropush::net
