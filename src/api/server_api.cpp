// The server API's endpoints: authentication, rate limit, routing, and each endpoint's work.
#include "api/server_api.hpp"

#include "auth/bearer_token.hpp"
#include "auth/same_secret.hpp"
#include "auth/token_bucket.hpp"
#include "core/json_numbers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <mutex>
#include <variant>
#include <vector>

namespace coropush::api {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr char server_name[] = "coropush";

http_response json_response(http::status status, std::string body, unsigned version, bool keep_alive)
{
    http_response response{status, version};
    response.set(http::field::server, server_name);
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

http_response error_json(api_error const& e, unsigned version, bool keep_alive)
{
    json::object error;
    error["code"] = e.code;
    error["message"] = e.message;
    json::object body;
    body["error"] = std::move(error);
    auto response = json_response(e.status, json::serialize(body), version, keep_alive);
    if (e.status == http::status::unauthorized)
        response.set(http::field::www_authenticate, "Bearer");
    if (e.status == http::status::method_not_allowed)
        response.set(http::field::allow, "POST");
    if (e.status == http::status::too_many_requests)
        response.set(http::field::retry_after, "1");
    return response;
}

// application/json, with parameters (charset) allowed.
bool is_json_content(std::string_view content_type) noexcept
{
    auto const media = content_type.substr(0, content_type.find(';'));
    auto const end = media.find_last_not_of(" \t");
    return end != std::string_view::npos && boost::beast::iequals(media.substr(0, end + 1), "application/json");
}

}  // namespace

// One token bucket for the key, shared by every io thread.
struct server_api::limiter {
    limiter(double rate, double burst)
        : enabled(rate > 0),
          bucket(rate, burst, steady::now())
    {
    }
    bool try_take()
    {
        if (!enabled)
            return true;
        std::lock_guard lock(mutex);
        return bucket.try_take(steady::now());
    }

    bool const enabled;
    std::mutex mutex;
    auth::token_bucket bucket;  // guarded by mutex
};

server_api::server_api(api_settings settings, api_services services)
    : settings_(std::move(settings)),
      services_(std::move(services)),
      limiter_(std::make_unique<limiter>(settings_.requests_per_second, settings_.burst))
{
}

server_api::~server_api() = default;

// What a request's path asks for: one of the API's own endpoints, or a feature's, and the one
// method it takes.
struct server_api::route {
    enum class endpoint { disconnect, resource };
    endpoint to;
    http::verb method = http::verb::post;
    api_resource const* resource = nullptr;  // endpoint::resource: whose
};

void server_api::add(api_resource resource)
{
    resources_.push_back(std::move(resource));
}

namespace {

// /api/disconnect, or a path of a feature's resource (the topics' /api/publish, the jobs').
std::optional<server_api::route> read_route(std::string_view path, std::vector<api_resource> const& resources)
{
    using endpoint = server_api::route::endpoint;
    if (path == "/api/disconnect")
        return server_api::route{endpoint::disconnect};
    for (auto const& resource : resources) {
        if (!path.starts_with(resource.prefix))
            continue;
        auto const rest = path.substr(resource.prefix.size());
        if (!rest.empty() && !rest.starts_with('/'))
            continue;
        if (auto const method = resource.method_of(path))
            return server_api::route{endpoint::resource, *method, &resource};
        return std::nullopt;
    }
    return std::nullopt;
}

api_result answer_of(std::variant<json::object, api_error> result)
{
    if (auto* e = std::get_if<api_error>(&result))
        return std::move(*e);
    api_answer answer;
    answer.body = std::get<json::object>(std::move(result));
    return answer;
}

}  // namespace

asio::awaitable<http_response> server_api::handle(http_request request)
{
    auto response = co_await answer(request);
    if (services_.answered)
        services_.answered(response.result_int());
    co_return response;
}

asio::awaitable<http_response> server_api::answer(http_request const& request)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    if (auto refused = screen(request))
        co_return std::move(*refused);
    if (!limiter_->try_take())
        co_return error_json({http::status::too_many_requests, "rate_limited", "too many requests for this API key"},
                             version, keep_alive);

    auto const target = request.target();
    auto const path = target.substr(0, target.find('?'));
    auto const to = read_route(path, resources_);
    if (!to)
        co_return error_json({http::status::not_found, "not_found", "no API endpoint at " + std::string(path)}, version,
                             keep_alive);
    // RFC 9110 9.3.2: where GET is answered, so is HEAD (the session sends its header alone).
    bool const get = to->method == http::verb::get;
    if (request.method() != to->method && !(get && request.method() == http::verb::head)) {
        auto const method = std::string(http::to_string(to->method));
        auto response =
            error_json({http::status::method_not_allowed, "method_not_allowed", "use " + method}, version, keep_alive);
        response.set(http::field::allow, get ? "GET, HEAD" : method);
        co_return response;
    }

    json::value body;
    if (to->method == http::verb::post) {
        // RFC 9110 8.3: one Content-Type. Two may be read differently by a proxy in front, and
        // neither is more the body's type than the other.
        if (request.count(http::field::content_type) > 1)
            co_return error_json({http::status::bad_request, "bad_request", "more than one Content-Type header"},
                                 version, keep_alive);
        if (!is_json_content(request[http::field::content_type]))
            co_return error_json({http::status::unsupported_media_type, "unsupported_media_type",
                                  "the body must be JSON (Content-Type: application/json)"},
                                 version, keep_alive);
        boost::system::error_code ec;
        body = json::parse(request.body(), ec);
        if (ec)
            co_return error_json({http::status::bad_request, "bad_json", "the body is not valid JSON: " + ec.message()},
                                 version, keep_alive);
        if (!finite_numbers_only(body))
            co_return error_json({http::status::bad_request, "bad_json",
                                  std::string("the body is not valid JSON: ") + non_finite_number_reason},
                                 version, keep_alive);
    }
    if (auto reason = services_.unavailable())
        co_return error_json({http::status::service_unavailable, "unavailable", *reason}, version, keep_alive);

    auto result = co_await work(*to, path, std::move(body));
    if (auto const* e = std::get_if<api_error>(&result))
        co_return error_json(*e, version, keep_alive);
    auto const& answered = std::get<api_answer>(result);
    auto response = json_response(answered.status, json::serialize(answered.body), version, keep_alive);
    if (!answered.location.empty())
        response.set(http::field::location, answered.location);
    co_return response;
}

std::optional<http_response> server_api::screen(http_request const& header) const
{
    auto const version = header.version();
    auto const keep_alive = header.keep_alive();
    if (!enabled())
        return error_json({http::status::not_found, "not_found", "no API here: the server has no API key configured"},
                          version, keep_alive);
    auto const given =
        auth::request_bearer_token(header.count(http::field::authorization), header[http::field::authorization]);
    if (given.repeated)
        return error_json({http::status::bad_request, "bad_request", "more than one Authorization header"}, version,
                          keep_alive);
    if (!given.token || !auth::same_secret(*given.token, settings_.key))
        return error_json(
            {http::status::unauthorized, "unauthorized", "missing or wrong API key (Authorization: Bearer KEY)"},
            version, keep_alive);
    return std::nullopt;
}

asio::awaitable<api_result> server_api::work(route const& to, std::string_view path, json::value body)
{
    switch (to.to) {
    case route::endpoint::disconnect:
        co_return answer_of(disconnect(body));
    case route::endpoint::resource:
        break;
    }
    // Named before it is awaited: GCC 12 may destroy an aggregate argument in a co_await twice.
    auto pending = to.resource->answer(std::string(path), std::move(body));
    co_return co_await std::move(pending);
}

// POST /api/disconnect {"user"}: closes every session of that user on every node (4000); the
// answer counts this node's.
std::variant<json::object, api_error> server_api::disconnect(json::value const& body)
{
    auto const* object = body.if_object();
    auto const* user = object ? object->if_contains("user") : nullptr;
    if (!user || !user->is_string() || user->get_string().empty())
        return api_error{http::status::bad_request, "bad_request", "user must be a non-empty string"};
    json::object answer;
    answer["disconnected"] = services_.disconnect_user(std::string_view(user->get_string()));
    return answer;
}

http_response error_response(http::status status, std::string_view code, std::string_view message, unsigned version,
                             bool keep_alive)
{
    return error_json(api_error{status, code, std::string(message)}, version, keep_alive);
}

http_route server_api::as_route(std::size_t max_body_bytes)
{
    auto refuse = [this](http::status status, std::string_view code, std::string_view message, unsigned version) {
        if (services_.answered)
            services_.answered(static_cast<unsigned>(status));
        return error_response(status, code, message, version, false);
    };
    auto screen_header = [this](http_request const& header) {
        auto refused = screen(header);
        if (refused && services_.answered)
            services_.answered(refused->result_int());
        return refused;
    };
    return http_route{"/api/", max_body_bytes, [this](http_request request) { return handle(std::move(request)); },
                      std::move(refuse), std::move(screen_header)};
}

}  // namespace coropush::api
