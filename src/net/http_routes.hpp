// The plain HTTP side of the port: static files from the web root, and the operational
// endpoints /healthz, /readyz and /metrics. WebSocket upgrades never get here (see session.cpp),
// nor does the server API (/api/: the HTTP session awaits its answer, see http_session.cpp).
#pragma once

#include "core/metrics.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace coropush::net {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

struct readiness {
    bool ready;
    std::string detail;  // the body of /readyz: why (not) ready
};

struct http_context {
    std::filesystem::path web_root;  // canonical
    metrics const& stats;
    std::function<readiness()> ready;
    std::string admin_token;  // empty: the /admin endpoints answer 404
    // Ends every WebSocket session: with close 1012 (service restart), or, when `drop`, by
    // dropping the TCP connection as a network failure would. Returns how many were open.
    std::function<std::size_t(bool drop)> disconnect_all;
};

// The response to a plain HTTP request.
boost::beast::http::message_generator route_http(http_request const& request, http_context const& context);

// A short text/plain response, for the endpoints and for refusals (400, 403, 404, 431, 503...).
// `head_only`: the answer to a HEAD request, with the body's Content-Length but not the body.
boost::beast::http::message_generator text_response(boost::beast::http::status status, std::string body,
                                                    unsigned version, bool keep_alive, bool head_only = false);

}  // namespace coropush::net
