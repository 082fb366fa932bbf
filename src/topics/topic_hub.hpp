// Topics and their local subscribers, with fan-out that serializes a message once: every
// subscriber's queue gets the same immutable buffer.
//
// Thread-safe: sessions on any io thread subscribe and publish concurrently (one mutex, taken once
// per call). Subscribers are kept grouped by the shard they run on (push_target::shard), and a
// publish hands each shard that has subscribers one part: the list of them, which the shard then
// pushes to with push_target::push_here, with no lock and no further hand-off. The hub never
// touches another session's socket, and holds no lock while a shard delivers.
#pragma once

#include "core/fanout_shards.hpp"
#include "core/metrics.hpp"
#include "core/outbound.hpp"
#include "pubsub/backplane.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coropush::topics {

class topic_hub {
public:
    // `shards` (which outlives the hub): where each shard's part of a fan-out runs.
    topic_hub(metrics& stats, pubsub::backplane& link, fanout_shards& shards)
        : stats_(stats),
          backplane_(link),
          shards_(shards)
    {
    }
    // A hub whose subscribers all live on the thread that publishes (tests, benchmarks).
    topic_hub(metrics& stats, pubsub::backplane& link)
        : topic_hub(stats, link, one_shard_at_once())
    {
    }

    // False when the subscriber already had this topic.
    bool subscribe(std::string const& topic, std::shared_ptr<push_target> subscriber);
    // False when the subscriber did not have this topic.
    bool unsubscribe(std::string const& topic, std::uint64_t subscriber_id);

    // No connection published (the API, a job): every subscriber is reached through its shard.
    static constexpr std::uint64_t no_publisher = 0;

    // Publishes an envelope on `topic` from this node, serialized once by the caller: every local
    // subscriber's queue gets this one buffer, other nodes get it through the backplane. Returns
    // the number of local subscribers it was handed to (subscribers being closed are not counted).
    // `publisher`, the connection publishing, must be the caller's own: when it is subscribed, it
    // is pushed the message now, before the reply the caller is about to queue (protocol.md's
    // ordering rule); every other subscriber gets it through its shard, in publish order.
    std::size_t publish(std::string const& topic, shared_payload const& envelope,
                        std::uint64_t publisher = no_publisher);

    // Hands an already-serialized envelope to every local subscriber of `topic` (used for
    // messages that arrive from other nodes). Returns the number of subscribers it was handed to.
    std::size_t deliver(std::string const& topic, shared_payload const& envelope);

    std::size_t subscriber_count(std::string const& topic) const;
    std::size_t topic_count() const;

private:
    using subscriber_map = std::unordered_map<std::uint64_t, std::shared_ptr<push_target>>;
    struct topic_entry {
        std::vector<subscriber_map> by_shard;  // indexed by push_target::shard
        std::size_t count = 0;
    };
    // One publish, taken apart under the lock and handed out after it: a part per shard (its
    // subscribers, kept alive until the shard has pushed to them), and the publisher's own copy.
    struct shard_part {
        std::size_t shard;
        std::vector<std::shared_ptr<push_target>> subscribers;
    };
    struct fan_out {
        std::vector<shard_part> parts;
        std::shared_ptr<push_target> publisher;  // when it is subscribed
        std::size_t count = 0;                   // every recipient, the publisher too
    };

    fan_out take_recipients_locked(std::string const& topic, std::uint64_t publisher) const;
    std::size_t hand_out(fan_out recipients, shared_payload const& envelope);

    metrics& stats_;
    pubsub::backplane& backplane_;
    fanout_shards& shards_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, topic_entry> topics_;  // guarded by mutex_
};

}  // namespace coropush::topics
