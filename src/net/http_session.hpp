// The HTTP part of a session: serve requests until one is an accepted WebSocket upgrade.
#pragma once

#include "net/upgrade.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <optional>

namespace coropush::net {

class connection;
class server_state;

// Answers HTTP requests on `stream` until one asks for a WebSocket upgrade that passes
// decide_upgrade (returned, request and all), the client leaves, or a request breaks a rule
// (answered with its HTTP error, then nothing is returned).
boost::asio::awaitable<std::optional<upgrade_to_websocket>> serve_http(boost::beast::tcp_stream& stream,
                                                                       connection& conn, server_state& server);

}  // namespace coropush::net
