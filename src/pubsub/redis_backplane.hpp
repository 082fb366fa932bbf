// The Redis pub/sub backplane: topics span every coropush node that shares one Redis.
//
// Each node keeps two connections (a subscriber connection cannot publish): on one it PUBLISHes
// every message published locally to the channel NAMESPACE:topic:TOPIC, prefixed with its node
// id; on the other it SUBSCRIBEs to a topic's channel exactly while it has local subscribers for
// it, and hands what arrives from other nodes to the hub (its own messages, already delivered
// locally, are recognised by the node id and skipped). So every subscriber on every node gets a
// message once, in each publisher's order. While Redis is unreachable, local delivery goes on,
// messages for other nodes are dropped and counted, /readyz says "backplane unavailable", and
// both connections reconnect with backoff and re-subscribe. A Redis that hangs (connections open,
// nothing answered) counts as unreachable once a heartbeat goes unanswered or too many bytes
// await a reply (redis_link.hpp). A disconnect_user is PUBLISHed on the control channel
// NAMESPACE:control:disconnect_user, which every node subscribes to before it counts as up. See
// docs/scaling.md.
#pragma once

#include "pubsub/backplane.hpp"
#include "pubsub/redis_liveness.hpp"
#include "pubsub/redis_url.hpp"

#include <memory>

namespace boost::asio {
class io_context;
}

namespace coropush {

class redis_backplane final : public backplane {
public:
    // `liveness` applies to each of the two connections.
    redis_backplane(boost::asio::io_context& io, redis_url const& where, redis_liveness_limits liveness = {});
    ~redis_backplane() override;
    redis_backplane(redis_backplane const&) = delete;
    redis_backplane& operator=(redis_backplane const&) = delete;

    void start(metrics& stats, remote_sink deliver) override;
    void subscribe(std::string const& topic) override;
    void unsubscribe(std::string const& topic) override;
    void publish(std::string const& topic, shared_payload const& envelope) override;
    bool healthy() const override;
    void on_disconnect_user(user_sink close_sessions) override;
    void disconnect_user(std::string const& user) override;
    void shutdown() override;

    // This node's id on the backplane (random, 16 hex digits).
    std::string const& node_id() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace coropush
