// Step 7's topics (parts/topics.hpp), compiled once for steps 7 and 8.
#include "parts/topics.hpp"

#include "parts/deadline.hpp"

namespace ladder {

namespace {

void subscribe(session_ptr const& s, topic_registry& topics, request const& request)
{
    auto const topic = string_field(request, "topic");
    if (topic.empty()) {
        graceful::send(s, make_error(request, "a subscribe needs a topic"));
        return;
    }
    topics.subscribers[topic].insert(s);
    topics.topics_of[s].insert(topic);
    graceful::send(s, make_message("subscribed", request.id, {{"topic", topic}}));
}

// Queues the message on every subscriber's outbox: serialized once, the same buffer in every queue.
void publish(session_ptr const& s, topic_registry& topics, request const& request)
{
    auto const topic = string_field(request, "topic");
    if (topic.empty()) {
        graceful::send(s, make_error(request, "a publish needs a topic"));
        return;
    }
    auto const message = make_message("message", {}, {{"topic", topic}, {"text", string_field(request, "text")}});
    std::size_t delivered = 0;
    if (auto const found = topics.subscribers.find(topic); found != topics.subscribers.end()) {
        for (auto const& subscriber : found->second)
            graceful::send(subscriber, message);  // the same buffer in every queue
        delivered = found->second.size();
    }
    graceful::send(s, make_message("published", request.id, {{"topic", topic}, {"delivered", delivered}}));
}

}  // namespace

void answer(session_ptr const& s, topic_registry& topics, std::optional<request> const& request)
{
    if (!request) {
        graceful::send(s, make_error(request, "not a message"));
    } else if (request->type == "hello") {
        graceful::send(s, make_message("welcome", request->id, {{"text", "welcome!"}}));
        schedule(s, clock::now() + notice_delay, make_message("notice", {}, {{"text", "one second after your hello"}}));
    } else if (request->type == "subscribe") {
        subscribe(s, topics, *request);
    } else if (request->type == "publish") {
        publish(s, topics, *request);
    } else {
        graceful::send(s, make_error(request, "unknown type"));
    }
}

void leave_topics(session_ptr const& s, topic_registry& topics)
{
    auto const mine = topics.topics_of.find(s);
    if (mine == topics.topics_of.end())
        return;
    for (auto const& topic : mine->second) {
        auto const found = topics.subscribers.find(topic);
        found->second.erase(s);
        if (found->second.empty())
            topics.subscribers.erase(found);
    }
    topics.topics_of.erase(mine);
}

}  // namespace ladder
