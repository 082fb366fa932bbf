// The HTTP part of a session: serve requests until one is an accepted WebSocket upgrade.
#pragma once

#include "core/tls_transport.hpp"
#include "net/upgrade.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <optional>

namespace coropush::net {

class connection;
class session_context;

// Answers HTTP requests on `stream` until one asks for a WebSocket upgrade that passes
// decide_upgrade (returned, with the connection and the request), the client leaves, or a request
// breaks a rule (answered with its HTTP error, then nothing is returned and the connection ends).
// One overload per transport, the same code behind both: plain TCP hands the WebSocket part the
// bare socket, TLS its whole stream (core/tls_transport.hpp says why).
boost::asio::awaitable<std::optional<upgrade_to_websocket<boost::asio::ip::tcp::socket>>>
serve_http(boost::beast::tcp_stream stream, connection& conn, session_context& server);
boost::asio::awaitable<std::optional<upgrade_to_websocket<tls_stream>>> serve_http(tls_stream stream, connection& conn,
                                                                                   session_context& server);

}  // namespace coropush::net
