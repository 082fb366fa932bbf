// Where the server answers, and who answers: its WebSocket endpoints (a path and a subprotocol, and
// the message handler each session there gets) and its HTTP routes (a path prefix and the coroutine
// that answers it). The composition root fills one table at start-up, one line per feature
// (server/endpoints.cpp); the transport only looks things up in it, so it knows no feature.
#pragma once

#include "core/message_handler.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coropush {

class outbox;

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// A WebSocket endpoint: a client that opens one of `paths` offering `subprotocol` (or, for an
// endpoint with no subprotocol, offering none the path knows) gets a session whose messages go to
// the handler `make_handler` returns. The handler answers through the session's outbox.
struct websocket_endpoint {
    std::string name;                   // in the log and /metrics: "json", "plain", "echo"
    std::vector<std::string> paths;     // "/", "/ws"
    std::string subprotocol;            // named in the 101 when chosen; empty: none
    std::size_t max_message_bytes = 0;  // a larger message closes the session with 1009
    // Whether the upgrade must pass the Origin policy (--allowed-origins): true for an endpoint a
    // hostile page must not reach with a visitor's browser (one that can publish, or sees topics).
    bool check_origin = true;
    std::function<std::unique_ptr<message_handler>(outbox&)> make_handler;
};

// An HTTP route: requests whose path starts with `prefix` (or is the prefix without its last
// '/') are `answer`ed, awaited (it may wait for a backend, a strand or Redis). A request refused
// before it reaches `answer` (a body over `max_body_bytes`: 413 "too_large"; a body that cannot be
// read, such as a broken chunked encoding: 400 "bad_request") gets `refuse`'s answer, in the
// route's own format (JSON for the API): from the status, a short machine-readable code, the
// message, and the HTTP version. The connection closes after a refusal.
struct http_route {
    std::string prefix;  // "/api/"
    std::size_t max_body_bytes = 0;
    std::function<boost::asio::awaitable<http_response>(http_request)> answer;
    std::function<http_response(boost::beast::http::status status, std::string_view code, std::string_view message,
                                unsigned version)>
        refuse;
    // Optional: the answer to a request refused on its header alone, before its body is read
    // (the server API's 401 for a request without the key), or nothing to read the body and go
    // on. The body of a request refused so is never held: what of it comes is read and dropped,
    // and the connection closes after the answer (one without a body keeps its connection).
    std::function<std::optional<http_response>(http_request const& header)> screen = {};
};

class endpoints {
public:
    // Throws std::invalid_argument for an endpoint that would shadow one already there (the same
    // path and subprotocol), or that cannot be reached (no path, a path not starting with '/',
    // no handler); the same for a route with an empty prefix or no answer.
    void add(websocket_endpoint endpoint);
    void add(http_route route);

    // The endpoint at `path` for a client offering `offered` (the Sec-WebSocket-Protocol header,
    // a comma-separated list): the first endpoint, in the order added, whose subprotocol the
    // client offers (case-sensitive), else the path's endpoint without one. Nothing when the path has none (404),
    // or when it has only subprotocol endpoints and the client offers none of them.
    websocket_endpoint const* websocket_at(std::string_view path, std::string_view offered) const;
    bool has_websocket_path(std::string_view path) const;

    // The route whose prefix the target's path starts with (the longest, if several); nothing:
    // the built-in endpoints and static files answer.
    http_route const* route_for(std::string_view target) const;
    // The largest body any route takes (the HTTP part reads a request's header with this limit).
    std::size_t largest_body() const noexcept;

    std::vector<websocket_endpoint> const& websocket_endpoints() const noexcept { return websocket_; }

private:
    std::vector<websocket_endpoint> websocket_;
    std::vector<http_route> http_;
};

}  // namespace coropush
