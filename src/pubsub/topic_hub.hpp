// Topics and their local subscribers, with fan-out that serializes a message once: every
// subscriber's queue gets the same immutable buffer.
//
// Thread-safe: sessions on any io thread subscribe and publish concurrently (one mutex). Delivery
// to a subscriber is push_target::push, which hands the frame to that subscriber's own strand;
// the hub never touches another session's socket.
#pragma once

#include "core/frame.hpp"
#include "core/metrics.hpp"
#include "pubsub/backplane.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coropush {

class topic_hub {
public:
    topic_hub(metrics& stats, backplane& link)
        : stats_(stats),
          backplane_(link)
    {
    }

    // False when the subscriber already had this topic.
    bool subscribe(std::string const& topic, std::shared_ptr<push_target> subscriber);
    // False when the subscriber did not have this topic.
    bool unsubscribe(std::string const& topic, std::uint64_t subscriber_id);

    // Publishes an envelope on `topic` from this node, serialized once by the caller: every local
    // subscriber's queue gets this one buffer now, other nodes get it through the backplane. Returns the number of
    // local subscribers it was queued for (subscribers being closed are not counted).
    std::size_t publish(std::string const& topic, shared_payload const& envelope);

    // Queues an already-serialized envelope for every local subscriber of `topic` (used for
    // messages that arrive from other nodes). Returns the number of subscribers it was queued for.
    std::size_t deliver(std::string const& topic, shared_payload const& envelope);

    std::size_t subscriber_count(std::string const& topic) const;
    std::size_t topic_count() const;

private:
    std::size_t deliver_locked(std::string const& topic, shared_payload const& envelope);

    using subscribers = std::unordered_map<std::uint64_t, std::shared_ptr<push_target>>;

    metrics& stats_;
    backplane& backplane_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, subscribers> topics_;  // guarded by mutex_
};

}  // namespace coropush
