// Topic subscriptions and fan-out, a part per shard.
#include "topics/topic_hub.hpp"

#include <algorithm>

namespace coropush::topics {

bool topic_hub::subscribe(std::string const& topic, std::shared_ptr<push_target> subscriber)
{
    std::lock_guard lock(mutex_);
    auto [entry, new_topic] = topics_.try_emplace(topic);
    if (new_topic)
        entry->second.by_shard.resize(shards_.size());
    auto const id = subscriber->id();
    // at(): a subscriber on a shard the hub does not know would be a wiring bug, not a client's.
    bool const added = entry->second.by_shard.at(subscriber->shard()).emplace(id, std::move(subscriber)).second;
    if (new_topic) {
        stats_.topics.fetch_add(1, std::memory_order_relaxed);
        backplane_.subscribe(topic);
    }
    if (added) {
        ++entry->second.count;
        stats_.subscriptions.fetch_add(1, std::memory_order_relaxed);
    }
    return added;
}

bool topic_hub::unsubscribe(std::string const& topic, std::uint64_t subscriber_id)
{
    std::lock_guard lock(mutex_);
    auto const entry = topics_.find(topic);
    if (entry == topics_.end())
        return false;
    // The id alone does not say the shard; there are only as many as io threads to look in.
    auto& by_shard = entry->second.by_shard;
    auto const on_shard = std::find_if(by_shard.begin(), by_shard.end(),
                                       [&](subscriber_map const& s) { return s.contains(subscriber_id); });
    if (on_shard == by_shard.end())
        return false;
    on_shard->erase(subscriber_id);
    stats_.subscriptions.fetch_sub(1, std::memory_order_relaxed);
    if (--entry->second.count == 0) {
        topics_.erase(entry);
        stats_.topics.fetch_sub(1, std::memory_order_relaxed);
        backplane_.unsubscribe(topic);
    }
    return true;
}

std::size_t topic_hub::publish(std::string const& topic, shared_payload const& envelope, std::uint64_t publisher)
{
    stats_.publishes.fetch_add(1, std::memory_order_relaxed);
    fan_out recipients;
    {
        std::lock_guard lock(mutex_);
        recipients = take_recipients_locked(topic, publisher);
        // Under the lock, so that the backplane sees this node's publishes in the hub's order.
        backplane_.publish(topic, envelope);
    }
    return hand_out(std::move(recipients), envelope);
}

std::size_t topic_hub::deliver(std::string const& topic, shared_payload const& envelope)
{
    fan_out recipients;
    {
        std::lock_guard lock(mutex_);
        recipients = take_recipients_locked(topic, no_publisher);
    }
    return hand_out(std::move(recipients), envelope);
}

topic_hub::fan_out topic_hub::take_recipients_locked(std::string const& topic, std::uint64_t publisher) const
{
    fan_out out;
    auto const entry = topics_.find(topic);
    if (entry == topics_.end())
        return out;
    auto const& by_shard = entry->second.by_shard;
    for (std::size_t shard = 0; shard < by_shard.size(); ++shard) {
        shard_part part{shard, {}};
        part.subscribers.reserve(by_shard[shard].size());
        for (auto const& [id, subscriber] : by_shard[shard]) {
            // A subscriber being closed is left out, and not counted: publish acks say how many
            // subscribers a message was queued for. (One closing right now drops it on its shard.)
            if (!subscriber->accepting())
                continue;
            if (id == publisher)
                out.publisher = subscriber;
            else
                part.subscribers.push_back(subscriber);
            ++out.count;
        }
        if (!part.subscribers.empty())
            out.parts.push_back(std::move(part));
    }
    return out;
}

std::size_t topic_hub::hand_out(fan_out recipients, shared_payload const& envelope)
{
    stats_.deliveries.fetch_add(recipients.count, std::memory_order_relaxed);
    // The publisher's own message, at once: it is the caller's connection, on the caller's shard.
    if (recipients.publisher)
        recipients.publisher->push_here(text_message(envelope));
    // One hand-off per shard with subscribers. Each part holds its subscribers alive, so one that
    // unsubscribes or ends meanwhile is still safe to push to (it drops the message, being closed).
    for (auto& part : recipients.parts) {
        shards_.run(part.shard, [subscribers = std::move(part.subscribers), envelope] {
            for (auto const& subscriber : subscribers)
                subscriber->push_here(text_message(envelope));
        });
    }
    return recipients.count;
}

std::size_t topic_hub::subscriber_count(std::string const& topic) const
{
    std::lock_guard lock(mutex_);
    auto const entry = topics_.find(topic);
    return entry == topics_.end() ? 0 : entry->second.count;
}

std::size_t topic_hub::topic_count() const
{
    std::lock_guard lock(mutex_);
    return topics_.size();
}

}  // namespace coropush::topics
