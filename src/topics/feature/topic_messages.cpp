// The topic messages of the coropush.v1 dialect: subscribe, unsubscribe, publish.
#include "topics/feature/topics_feature.hpp"

#include "protocol/topic_name.hpp"
#include "service/json_dialect.hpp"
#include "service/json_extensions.hpp"
#include "topics/topic_hub.hpp"

#include <set>
#include <string>

namespace coropush::topics_feature {
namespace {

// The topics one connection is subscribed to: it leaves them when it closes.
class subscriptions final : public service::connection_state {
public:
    explicit subscriptions(topics::topic_hub& hub)
        : hub_(hub)
    {
    }

    bool contains(std::string const& topic) const { return topics_.contains(topic); }
    std::size_t size() const noexcept { return topics_.size(); }
    void add(std::string const& topic) { topics_.insert(topic); }
    bool remove(std::string const& topic) { return topics_.erase(topic) != 0; }

    void on_closed(service::json_dialect& connection) override
    {
        for (auto const& topic : topics_)
            hub_.unsubscribe(topic, connection.out().id());
        topics_.clear();
    }

private:
    topics::topic_hub& hub_;
    std::set<std::string> topics_;
};

bool check_topic(service::json_dialect& connection, std::string const& topic, protocol::request_id id)
{
    auto const max_length = connection.services().options.max_topic_length;
    if (valid_topic_name(topic, max_length))
        return true;
    connection.fail(id, protocol::errc::invalid_topic,
                    "a topic is 1 to " + std::to_string(max_length) + " characters from A-Z a-z 0-9 . _ : / -");
    return false;
}

class topic_messages {
public:
    topic_messages(topics::topic_hub& hub, std::size_t slot)
        : hub_(hub),
          slot_(slot)
    {
    }

    void subscribe(service::json_dialect& connection, protocol::subscribe const& request, protocol::request_id id) const
    {
        if (!check_topic(connection, request.topic, id) ||
            !connection.permitted(auth::topic_operation::subscribe, request.topic, id))
            return;
        auto& held = state_of(connection);
        if (!held.contains(request.topic)) {
            auto const most = connection.services().options.max_subscriptions;
            if (held.size() >= most) {
                connection.fail(id, protocol::errc::too_many_subscriptions,
                                "at most " + std::to_string(most) + " subscriptions per connection");
                return;
            }
            held.add(request.topic);
            hub_.subscribe(request.topic, connection.out().target());
        }
        connection.reply(protocol::subscribed{request.topic}, id);
    }

    void unsubscribe(service::json_dialect& connection, protocol::unsubscribe const& request,
                     protocol::request_id id) const
    {
        if (!check_topic(connection, request.topic, id))
            return;
        // Idempotent: unsubscribing from a topic one is not subscribed to is not an error.
        if (state_of(connection).remove(request.topic))
            hub_.unsubscribe(request.topic, connection.out().id());
        connection.reply(protocol::unsubscribed{request.topic}, id);
    }

    void publish(service::json_dialect& connection, protocol::publish const& request, protocol::request_id id) const
    {
        if (!check_topic(connection, request.topic, id) ||
            !connection.permitted(auth::topic_operation::publish, request.topic, id))
            return;
        if (!request.text && !request.data) {
            connection.fail(id, protocol::errc::bad_data, "data.text or data.data is required");
            return;
        }
        // Serialized once here; every subscriber's queue, and the backplane, share the buffer.
        auto const envelope = service::topic_envelope(protocol::message{request.topic, request.text, request.data});
        // This connection, if subscribed, gets its own message now, before the reply (protocol.md).
        auto const delivered = hub_.publish(request.topic, envelope, connection.out().id());
        connection.reply(protocol::published{request.topic, delivered}, id);
    }

private:
    subscriptions& state_of(service::json_dialect& connection) const
    {
        return connection.state<subscriptions>(slot_, [this] { return std::make_unique<subscriptions>(hub_); });
    }

    topics::topic_hub& hub_;
    std::size_t slot_;
};

}  // namespace

void add_topic_messages(service::json_extensions& json, topics::topic_hub& hub)
{
    auto const messages = std::make_shared<topic_messages const>(hub, json.add_state_slot());
    json.on<protocol::subscribe>([messages](service::json_dialect& connection, protocol::subscribe const& request,
                                            protocol::request_id id) { messages->subscribe(connection, request, id); });
    json.on<protocol::unsubscribe>(
        [messages](service::json_dialect& connection, protocol::unsubscribe const& request, protocol::request_id id) {
            messages->unsubscribe(connection, request, id);
        });
    json.on<protocol::publish>([messages](service::json_dialect& connection, protocol::publish const& request,
                                          protocol::request_id id) { messages->publish(connection, request, id); });
}

}  // namespace coropush::topics_feature
