// The API's POST /api/publish (docs/api.md): a backend's messages for a topic's subscribers.
#include "topics/feature/topics_feature.hpp"

#include "protocol/messages.hpp"
#include "protocol/topic_name.hpp"
#include "service/json_dialect.hpp"

#include <boost/beast/http/status.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace coropush::topics_feature {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using api::api_error;

namespace {

constexpr std::string_view publish_path = "/api/publish";

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

// One message, or a batch ({"messages":[...]}); every message is checked before any is sent, and
// each is written once (topic_envelope) for its subscribers on every node.
api::api_result publish(service::topic_publisher const& to_topics, std::size_t max_topic_length, std::size_t max_batch,
                        json::value const& body)
{
    std::vector<publish_item> items;
    auto const* batch = body.is_object() ? body.get_object().if_contains("messages") : nullptr;
    if (batch) {
        // A body that is a batch and a message at once is ambiguous: which did the backend mean?
        auto const& object = body.get_object();
        for (std::string_view const field : {"topic", "text", "data"})
            if (object.contains(field))
                return api_error{http::status::bad_request, "bad_request",
                                 "a batch (messages) has no " + std::string(field) +
                                     " of its own: put it in a message"};
        if (!batch->is_array() || batch->get_array().empty() || batch->get_array().size() > max_batch)
            return api_error{http::status::bad_request, "bad_request",
                             "messages must be an array of 1 to " + std::to_string(max_batch) + " messages"};
        auto const& array = batch->get_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            auto item = read_publish_item(array[i], "messages[" + std::to_string(i) + "].", max_topic_length);
            if (auto const* e = std::get_if<api_error>(&item))
                return *e;
            items.push_back(std::get<publish_item>(std::move(item)));
        }
    } else {
        auto item = read_publish_item(body, "", max_topic_length);
        if (auto const* e = std::get_if<api_error>(&item))
            return *e;
        items.push_back(std::get<publish_item>(std::move(item)));
    }

    json::array delivered;
    for (auto& item : items) {
        protocol::message const message{item.topic, std::move(item.text), std::move(item.data)};
        delivered.push_back(to_topics(message.topic, service::topic_envelope(message)));
    }
    api::api_answer answer;
    if (batch)
        answer.body["delivered"] = std::move(delivered);
    else
        answer.body["delivered"] = delivered.front();
    return answer;
}

// An answer there already, as the awaitable the API takes (made before the coroutine starts, so
// its frame holds nothing of the caller's).
asio::awaitable<api::api_result> answered(api::api_result result)
{
    co_return result;
}

}  // namespace

api::api_resource publish_route(service::topic_publisher publish_to, std::size_t max_topic_length,
                                std::size_t max_batch)
{
    return api::api_resource{
        std::string(publish_path),
        [](std::string_view path) -> std::optional<http::verb> {
            if (path != publish_path)
                return std::nullopt;
            return http::verb::post;
        },
        [publish_to = std::move(publish_to), max_topic_length, max_batch](std::string const&, json::value const& body) {
            return answered(publish(publish_to, max_topic_length, max_batch, body));
        }};
}

}  // namespace coropush::topics_feature
