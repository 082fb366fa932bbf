// The HTTP part of a session: serve requests until one is an accepted WebSocket upgrade.
#pragma once

#include "net/upgrade.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <optional>

namespace coropush::net {

class connection;
class server_state;

// Answers HTTP requests on `socket` until one asks for a WebSocket upgrade that passes
// decide_upgrade (returned, with the socket and the request), the client leaves, or a request
// breaks a rule (answered with its HTTP error, then nothing is returned and the socket closes).
boost::asio::awaitable<std::optional<upgrade_to_websocket>> serve_http(boost::asio::ip::tcp::socket socket,
                                                                       connection& conn, server_state& server);

}  // namespace coropush::net
