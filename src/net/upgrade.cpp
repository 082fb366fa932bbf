// The checks an upgrade passes before the WebSocket handshake.
#include "net/upgrade.hpp"

#include "net/origin_policy.hpp"

#include <boost/beast/http/rfc7230.hpp>

#include <algorithm>

namespace coropush::net {
namespace http = boost::beast::http;

std::string_view to_string(dialect d) noexcept
{
    switch (d) {
    case dialect::plain:
        return "plain";
    case dialect::json:
        return "json";
    case dialect::echo:
        return "echo";
    }
    return "?";
}

bool valid_websocket_key(std::string_view key) noexcept
{
    auto const base64 = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    };
    // 16 bytes encode to 22 significant characters; the 22nd carries only 2 bits (A, Q, g or w).
    return key.size() == 24 && key.substr(22) == "==" && std::all_of(key.begin(), key.begin() + 22, base64) &&
           std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

std::variant<accepted_upgrade, refused_upgrade> decide_upgrade(http_request const& request, server_state& server)
{
    auto const& options = server.options;
    auto const target = request.target();
    auto const path = target.substr(0, target.find('?'));

    dialect kind = dialect::plain;
    if (!options.echo_path.empty() && path == options.echo_path) {
        kind = dialect::echo;
    } else if (path == "/" || path == "/ws") {
        auto const offered = request[http::field::sec_websocket_protocol];
        kind = http::token_list{offered}.exists(json_subprotocol) ? dialect::json : dialect::plain;
    } else {
        return refused_upgrade{http::status::not_found, "no WebSocket endpoint at this path\n",
                               handshake_failure::not_found};
    }

    if (!valid_websocket_key(request[http::field::sec_websocket_key]))
        return refused_upgrade{http::status::bad_request, "missing or malformed Sec-WebSocket-Key\n",
                               handshake_failure::bad_request};

    if (!origin_allowed(request[http::field::origin], request[http::field::host], options.allowed_origins))
        return refused_upgrade{http::status::forbidden, "origin not allowed\n", handshake_failure::forbidden_origin};

    if (server.draining.load(std::memory_order_acquire))
        return refused_upgrade{http::status::service_unavailable, "server shutting down\n",
                               handshake_failure::shutting_down};

    auto slot = server.try_reserve_websocket();
    if (!slot)
        return refused_upgrade{http::status::service_unavailable, "too many connections\n",
                               handshake_failure::too_many_connections};

    auto const max_message = kind == dialect::echo ? options.echo_max_message_bytes : options.max_message_bytes;
    return accepted_upgrade{kind, max_message, std::move(*slot)};
}

}  // namespace coropush::net
