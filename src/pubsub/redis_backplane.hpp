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
#include "pubsub/redis_reply.hpp"
#include "pubsub/redis_url.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace coropush::pubsub {

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
    // NAMESPACE, what every key and channel of this backplane begins with.
    std::string const& name_space() const noexcept;

    // For the Redis job store (jobs/redis/redis_job_store.hpp), which keeps jobs in Redis on this
    // backplane's two connections. Everything below is called, and calls back, on executor().
    boost::asio::any_io_executor executor() const;

    // A job's channel (NAMESPACE:job:ID) beside the topics' channels, with the same rules (at most
    // one SUBSCRIBE or UNSUBSCRIBE in flight, subscribed again after a reconnect).
    struct job_channel_events {
        std::function<void(std::string const& job_id, std::string_view payload)> message;
        std::function<void(std::string const& job_id)> subscribed;  // confirmed (again, after a loss)
        std::function<void()> subscriptions_lost;                   // the subscriber connection went down
    };
    void set_job_channel_events(job_channel_events events);
    void listen_to_job(std::string const& job_id);
    void stop_listening_to_job(std::string const& job_id);

    // A command on the publishing connection; `done` gets the reply, or a reply of kind `none`
    // when Redis is out of reach (the command was not sent, or the connection went away first).
    void command(std::vector<std::string> const& args, std::function<void(redis_reply)> done);

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace coropush::pubsub
