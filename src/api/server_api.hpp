// The server API: HTTP endpoints under /api/ through which a backend pushes to browsers and
// disconnects users, plus the endpoints features add (the jobs' /api/jobs, through which a backend
// runs jobs that browsers watch). JSON in and out, one API key (Authorization: Bearer KEY), errors
// as {"error":{"code","message"}} with the HTTP status that says what went wrong. docs/api.md
// lists every endpoint with examples.
//
// The API is a plain object: it takes a parsed request and returns (as a coroutine: a feature's
// answer may wait for another strand, or for Redis) a response, so it is tested without sockets;
// the HTTP session reads the request and writes the answer.
#pragma once

#include "core/endpoints.hpp"
#include "core/outbound.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coropush::api {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

struct api_settings {
    std::string key;                   // empty: there is no API, and /api/ answers 404
    double requests_per_second = 200;  // per key, averaged; 0: no limit
    double burst = 400;                // requests at once before the rate applies
};

// What the API may do with the rest of the server; the composition root fills it in.
struct api_services {
    // Why the API cannot serve now (draining, the backplane is down), or nothing when it can.
    std::function<std::optional<std::string>()> unavailable;
    // Closes every WebSocket session of a user (the `sub` of its token) on every node; returns
    // how many on this node.
    std::function<std::size_t(std::string_view user)> disconnect_user;
    // Told the status of every answer, for /metrics (may be empty).
    std::function<void(unsigned status)> answered = {};
};

// A problem with a request, on its way to becoming an error response.
struct api_error {
    boost::beast::http::status status;
    std::string_view code;
    std::string message;
};

// A successful answer: a JSON object, with 200 or another success status (201 and a Location for
// something created).
struct api_answer {
    boost::json::object body;
    boost::beast::http::status status = boost::beast::http::status::ok;
    std::string location;  // "": no Location header
};

using api_result = std::variant<api_answer, api_error>;

// Endpoints a feature adds to the API (server_api::add; the jobs' /api/jobs...): every path that
// is `prefix` or starts with `prefix` + "/". A request reaches `answer` only after the API key,
// the rate limit, the method, the JSON body and the server's availability have been checked, and
// its answer is written like every other (errors as {"error":{"code","message"}}).
struct api_resource {
    std::string prefix;
    // The one method the endpoint at `path` takes, or nothing when `path` names no endpoint (404).
    std::function<std::optional<boost::beast::http::verb>(std::string_view path)> method_of;
    // The answer to a request for `path` (its method is method_of's); may wait. The body is null
    // for a GET.
    std::function<boost::asio::awaitable<api_result>(std::string path, boost::json::value body)> answer;
};

class server_api {
public:
    server_api(api_settings settings, api_services services);
    ~server_api();
    server_api(server_api const&) = delete;
    server_api& operator=(server_api const&) = delete;

    bool enabled() const noexcept { return !settings_.key.empty(); }

    // Adds a feature's endpoints; before the server serves (not thread-safe with handle). A path
    // the API itself answers (/api/publish, /api/disconnect) stays the API's.
    void add(api_resource resource);

    // What a request's path names (server_api.cpp).
    struct route;

    // The answer to a request whose path starts with /api/. Thread-safe; runs on the caller's
    // executor (it may wait for a job's strand, or for Redis).
    boost::asio::awaitable<http_response> handle(http_request request);

    // The refusal a request earns by its header alone (no API: 404; more than one Authorization
    // header: 400; no key or the wrong one: 401), or nothing when it may go on. `handle` checks
    // the same; the route checks it as the header ends, so that a request without the key is
    // answered before its body is read, and the server never holds a body for it.
    std::optional<http_response> screen(http_request const& header) const;

    // Its route, for the server's table (core/endpoints.hpp): /api/, bodies up to
    // `max_body_bytes` (--api-max-body-bytes), headers screened, refusals as the API's JSON
    // errors, counted as its answers are.
    http_route as_route(std::size_t max_body_bytes);

private:
    struct limiter;

    boost::asio::awaitable<http_response> answer(http_request const& request);
    boost::asio::awaitable<api_result> work(route const& to, std::string_view path, boost::json::value body);
    std::variant<boost::json::object, api_error> disconnect(boost::json::value const& body);

    api_settings const settings_;
    api_services const services_;
    std::unique_ptr<limiter> limiter_;
    std::vector<api_resource> resources_;  // the features' endpoints
};

// An API error as the API writes it, for errors found before the request reaches `handle` (a
// body over the limit: 413).
http_response error_response(boost::beast::http::status status, std::string_view code, std::string_view message,
                             unsigned version, bool keep_alive);

}  // namespace coropush::api
