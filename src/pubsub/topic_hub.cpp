// Topic subscriptions and fan-out.
#include "pubsub/topic_hub.hpp"

namespace coropush {

bool topic_hub::subscribe(std::string const& topic, std::shared_ptr<push_target> subscriber)
{
    std::lock_guard lock(mutex_);
    auto [entry, new_topic] = topics_.try_emplace(topic);
    auto const id = subscriber->id();
    bool const added = entry->second.emplace(id, std::move(subscriber)).second;
    if (new_topic) {
        stats_.topics.fetch_add(1, std::memory_order_relaxed);
        backplane_.subscribe(topic);
    }
    if (added)
        stats_.subscriptions.fetch_add(1, std::memory_order_relaxed);
    return added;
}

bool topic_hub::unsubscribe(std::string const& topic, std::uint64_t subscriber_id)
{
    std::lock_guard lock(mutex_);
    auto const entry = topics_.find(topic);
    if (entry == topics_.end() || entry->second.erase(subscriber_id) == 0)
        return false;
    stats_.subscriptions.fetch_sub(1, std::memory_order_relaxed);
    if (entry->second.empty()) {
        topics_.erase(entry);
        stats_.topics.fetch_sub(1, std::memory_order_relaxed);
        backplane_.unsubscribe(topic);
    }
    return true;
}

std::size_t topic_hub::publish(std::string const& topic, shared_payload const& envelope)
{
    stats_.publishes.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    auto const delivered = deliver_locked(topic, envelope);
    backplane_.publish(topic, envelope);
    return delivered;
}

std::size_t topic_hub::deliver(std::string const& topic, shared_payload const& envelope)
{
    std::lock_guard lock(mutex_);
    return deliver_locked(topic, envelope);
}

std::size_t topic_hub::deliver_locked(std::string const& topic, shared_payload const& envelope)
{
    auto const entry = topics_.find(topic);
    if (entry == topics_.end())
        return 0;
    std::size_t queued = 0;
    for (auto const& [id, subscriber] : entry->second)
        queued += subscriber->push(text_frame(envelope)) ? 1 : 0;
    stats_.deliveries.fetch_add(queued, std::memory_order_relaxed);
    return queued;
}

std::size_t topic_hub::subscriber_count(std::string const& topic) const
{
    std::lock_guard lock(mutex_);
    auto const entry = topics_.find(topic);
    return entry == topics_.end() ? 0 : entry->second.size();
}

std::size_t topic_hub::topic_count() const
{
    std::lock_guard lock(mutex_);
    return topics_.size();
}

}  // namespace coropush
