// The server API's endpoints: authentication, rate limit, routing, and each endpoint's work.
#include "api/server_api.hpp"

#include "auth/bearer_token.hpp"
#include "auth/same_secret.hpp"
#include "auth/token_bucket.hpp"
#include "protocol/codec.hpp"
#include "pubsub/topic_name.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <mutex>
#include <variant>
#include <vector>

namespace coropush::api {
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

// One message to publish, as the request gave it.
struct publish_item {
    std::string topic;
    std::optional<std::string> text;
    std::optional<json::value> data;
};

// Reads {"topic", "text"?, "data"?}; `where` names the item in error messages ("" or
// "messages[3].").
std::variant<publish_item, api_error> read_publish_item(json::value const& value, std::string const& where,
                                                        std::size_t max_topic_length)
{
    auto bad = [](std::string message) {
        return api_error{http::status::bad_request, "bad_request", std::move(message)};
    };
    auto const* object = value.if_object();
    if (!object)
        return bad(where.empty() ? "the body must be a JSON object"
                                 : where.substr(0, where.size() - 1) + " must be an object");
    publish_item item;
    auto const* topic = object->if_contains("topic");
    if (!topic || !topic->is_string())
        return bad(where + "topic must be a string");
    item.topic = std::string(topic->get_string());
    if (!valid_topic_name(item.topic, max_topic_length))
        return bad(where + "topic must be 1 to " + std::to_string(max_topic_length) +
                   " characters from A-Z a-z 0-9 . _ : / -");
    if (auto const* text = object->if_contains("text"); text && !text->is_null()) {
        if (!text->is_string())
            return bad(where + "text must be a string");
        item.text = std::string(text->get_string());
    }
    if (auto const* data = object->if_contains("data"); data && !data->is_null())
        item.data = *data;
    if (!item.text && !item.data)
        return bad(where + "data or text is required");
    return item;
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

http_response server_api::handle(http_request const& request)
{
    auto response = answer(request);
    if (services_.answered)
        services_.answered(response.result_int());
    return response;
}

http_response server_api::answer(http_request const& request)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto const fail = [&](api_error const& e) { return error_json(e, version, keep_alive); };
    if (!enabled())
        return fail({http::status::not_found, "not_found", "no API here: the server has no API key configured"});

    auto const given = auth::bearer_token(request[http::field::authorization]);
    if (!given || !auth::same_secret(*given, settings_.key))
        return fail(
            {http::status::unauthorized, "unauthorized", "missing or wrong API key (Authorization: Bearer KEY)"});
    if (!limiter_->try_take())
        return fail({http::status::too_many_requests, "rate_limited", "too many requests for this API key"});

    // The endpoints: each takes the parsed body and answers with a JSON object or an error.
    using endpoint = std::variant<json::object, api_error> (server_api::*)(json::value const&);
    auto const target = request.target();
    auto const path = target.substr(0, target.find('?'));
    endpoint work = nullptr;
    if (path == "/api/publish")
        work = &server_api::publish;
    else if (path == "/api/disconnect")
        work = &server_api::disconnect;
    else
        return fail({http::status::not_found, "not_found", "no API endpoint at " + std::string(path)});
    if (request.method() != http::verb::post)
        return fail({http::status::method_not_allowed, "method_not_allowed", "use POST"});
    if (!is_json_content(request[http::field::content_type]))
        return fail({http::status::unsupported_media_type, "unsupported_media_type",
                     "the body must be JSON (Content-Type: application/json)"});

    boost::system::error_code ec;
    auto const body = json::parse(request.body(), ec);
    if (ec)
        return fail({http::status::bad_request, "bad_json", "the body is not valid JSON: " + ec.message()});
    if (auto reason = services_.unavailable())
        return fail({http::status::service_unavailable, "unavailable", std::move(*reason)});

    auto answer = (this->*work)(body);
    if (auto const* e = std::get_if<api_error>(&answer))
        return fail(*e);
    return json_response(http::status::ok, json::serialize(std::get<json::object>(answer)), version, keep_alive);
}

// POST /api/publish: one message, or a batch ({"messages":[...]}); every message is checked
// before any is sent.
std::variant<json::object, api_error> server_api::publish(json::value const& body)
{
    std::vector<publish_item> items;
    auto const* batch = body.is_object() ? body.get_object().if_contains("messages") : nullptr;
    if (batch) {
        if (!batch->is_array() || batch->get_array().empty() || batch->get_array().size() > settings_.max_batch)
            return api_error{http::status::bad_request, "bad_request",
                             "messages must be an array of 1 to " + std::to_string(settings_.max_batch) + " messages"};
        auto const& array = batch->get_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            auto item = read_publish_item(array[i], "messages[" + std::to_string(i) + "].", settings_.max_topic_length);
            if (auto const* e = std::get_if<api_error>(&item))
                return *e;
            items.push_back(std::get<publish_item>(std::move(item)));
        }
    } else {
        auto item = read_publish_item(body, "", settings_.max_topic_length);
        if (auto const* e = std::get_if<api_error>(&item))
            return *e;
        items.push_back(std::get<publish_item>(std::move(item)));
    }

    json::array delivered;
    for (auto& item : items) {
        // Serialized once: every subscriber's queue and the backplane share this buffer.
        protocol::message const message{item.topic, std::move(item.text), std::move(item.data)};
        auto const envelope = make_payload(protocol::encode(message));
        delivered.push_back(services_.publish(item.topic, envelope));
    }
    json::object answer;
    if (batch)
        answer["delivered"] = std::move(delivered);
    else
        answer["delivered"] = delivered.front();
    return answer;
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

bool is_api_target(std::string_view target) noexcept
{
    return target.starts_with("/api/") || target == "/api";
}

}  // namespace coropush::api
