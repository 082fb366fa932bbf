// Whether an HTTP upgrade request becomes a WebSocket session, and at which endpoint (its path and
// subprotocol choose one in the server's table, core/endpoints.hpp). Refusals are
// HTTP answers with a reason (404, 403, 429, 503, 400), never a silently dropped socket.
#pragma once

#include "core/endpoints.hpp"
#include "core/metrics.hpp"
#include "net/http_routes.hpp"
#include "net/session_context.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <variant>

namespace coropush::net {

struct accepted_upgrade {
    websocket_endpoint const* endpoint;     // in the server's table, which outlives every session
    session_context::websocket_slot slot;   // counted against --max-connections
    session_context::address_slot address;  // counted against --max-connections-per-ip
};

struct refused_upgrade {
    boost::beast::http::status status;
    std::string body;  // sent to the client
    handshake_failure reason;
    std::string log_message;  // for the server's log: the reason and, where it helps, how to allow it
};

// An upgrade request that passed, handed from the HTTP part of a session to the WebSocket part
// together with the connection: the TCP socket, or the TLS stream.
template <class Transport>
struct upgrade_to_websocket {
    Transport transport;
    http_request request;
    accepted_upgrade accepted;
};

// `client_address` is the peer's IP address, as --max-connections-per-ip counts it.
std::variant<accepted_upgrade, refused_upgrade>
decide_upgrade(http_request const& request, std::string const& client_address, session_context& server);

// RFC 6455 4.2.1: the key is the base64 encoding of 16 bytes (24 characters ending in "==").
bool valid_websocket_key(std::string_view key) noexcept;

}  // namespace coropush::net
