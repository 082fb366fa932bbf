// The checks an upgrade passes before the WebSocket handshake.
#include "net/upgrade.hpp"

#include "net/origin_policy.hpp"

#include <boost/beast/http/rfc7230.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <optional>

namespace coropush::net {
namespace http = boost::beast::http;

bool valid_websocket_key(std::string_view key) noexcept
{
    auto const base64 = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    };
    // 16 bytes encode to 22 significant characters; the 22nd carries only 2 bits (A, Q, g or w).
    return key.size() == 24 && key.substr(22) == "==" && std::all_of(key.begin(), key.begin() + 22, base64) &&
           std::string_view("AQgw").find(key[21]) != std::string_view::npos;
}

namespace {

// A refusal whose log line says what its body says.
refused_upgrade refuse(http::status status, std::string_view reason, handshake_failure failure)
{
    return refused_upgrade{status, std::string(reason) + "\n", failure, std::string(reason)};
}

// The path of an origin-form target ("/ws?x=1" -> "/ws"), by the URL grammar; nothing for any
// other form (absolute-form, "*", or bytes that are not a URL).
std::optional<std::string_view> target_path(std::string_view target)
{
    auto const parsed = boost::urls::parse_origin_form(target);
    if (!parsed)
        return std::nullopt;
    return std::string_view(parsed->encoded_path());
}

// Every Sec-WebSocket-Protocol line of the request as one list: the header may come on several
// lines, which mean the same as one line with all of their values (RFC 6455 11.3.4).
std::string offered_subprotocols(http_request const& request)
{
    std::string offered;
    auto const [first, last] = request.equal_range(http::field::sec_websocket_protocol);
    for (auto line = first; line != last; ++line) {
        if (!offered.empty())
            offered += ", ";
        offered += line->value();
    }
    return offered;
}

}  // namespace

std::variant<accepted_upgrade, refused_upgrade>
decide_upgrade(http_request const& request, std::string const& client_address, session_context& server)
{
    auto const& options = server.options;
    auto const path = target_path(request.target());

    auto const* endpoint = path ? server.routes.websocket_at(*path, offered_subprotocols(request)) : nullptr;
    if (endpoint == nullptr) {
        if (path && server.routes.has_websocket_path(*path))
            return refuse(http::status::bad_request, "none of the offered subprotocols is spoken at this path",
                          handshake_failure::bad_request);
        return refuse(http::status::not_found, "no WebSocket endpoint at this path", handshake_failure::not_found);
    }

    if (request.count(http::field::sec_websocket_key) != 1 ||
        !valid_websocket_key(request[http::field::sec_websocket_key]))
        return refuse(http::status::bad_request, "missing, repeated or malformed Sec-WebSocket-Key",
                      handshake_failure::bad_request);
    // One Origin at most (RFC 6454 7.3): with two, the check would pass on the one it reads while
    // a proxy in front, or the application behind, may read the other.
    if (request.count(http::field::origin) > 1)
        return refuse(http::status::bad_request, "more than one Origin header", handshake_failure::bad_request);

    auto const origin = request[http::field::origin];
    if (endpoint->check_origin && !origin_allowed(origin, request[http::field::host], options.allowed_origins)) {
        auto refused = refuse(http::status::forbidden, "origin not allowed", handshake_failure::forbidden_origin);
        auto const& what =
            endpoint->subprotocol.empty() ? "the " + endpoint->name + " endpoint" : endpoint->subprotocol;
        refused.log_message =
            "origin not allowed for " + what + ": " + origin_refusal_note(origin, options.allowed_origins);
        return refused;
    }

    if (server.draining.load(std::memory_order_acquire))
        return refuse(http::status::service_unavailable, "server shutting down", handshake_failure::shutting_down);

    auto slot = server.try_reserve_websocket();
    if (!slot)
        return refuse(http::status::service_unavailable, "too many connections",
                      handshake_failure::too_many_connections);
    auto from = server.try_reserve_address(client_address);
    if (!from) {
        auto refused = refuse(http::status::too_many_requests, "too many connections from this address",
                              handshake_failure::too_many_from_address);
        refused.log_message = std::to_string(options.max_connections_per_ip) + " sessions open from " + client_address +
                              " (--max-connections-per-ip)";
        return refused;
    }

    return accepted_upgrade{endpoint, std::move(*slot), std::move(*from)};
}

}  // namespace coropush::net
