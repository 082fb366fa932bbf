// The seam between the topic hub and other server processes. The hub tells the backplane which
// topics this node has local subscribers for, and hands it each message published here; the
// backplane hands the hub each message published on another node (topic_hub::deliver). The
// server also sends one control request through it: close a user's sessions on every node.
//
// Implementations: in_process_backplane (the default: one node, nothing to forward) and
// redis_backplane (Redis pub/sub, --backplane redis://HOST:PORT). Tests use a GoogleMock of it.
#pragma once

#include "core/outbound.hpp"

#include <functional>
#include <string>

namespace coropush {
class metrics;
}

namespace coropush::pubsub {

class backplane {
public:
    // Where messages from other nodes go: the hub's local subscribers of `topic`.
    using remote_sink = std::function<void(std::string const& topic, shared_payload const& envelope)>;

    virtual ~backplane() = default;

    // Called once, before the server accepts connections: from now on, hand messages published
    // on other nodes to `deliver`, and keep `stats` (backplane_*) up to date. `deliver` is not
    // called after shutdown().
    virtual void start(metrics& stats, remote_sink deliver) = 0;

    // This node has its first local subscriber for `topic` / has just lost its last one.
    // Called under the hub's lock, in the order the changes happened; must not block.
    virtual void subscribe(std::string const& topic) = 0;
    virtual void unsubscribe(std::string const& topic) = 0;

    // A message published on this node (the hub hands it to its local subscribers): forward it
    // to the other nodes. `envelope` is the serialized `message` envelope. Must not block.
    virtual void publish(std::string const& topic, shared_payload const& envelope) = 0;

    // False while the backplane cannot reach the other nodes (local delivery still works).
    virtual bool healthy() const = 0;

    // Where another node's disconnect_user goes: close this node's sessions of `user`.
    using user_sink = std::function<void(std::string const& user)>;

    // Called once, before start(): from then on, hand each disconnect_user made on another node
    // to `close_sessions` (not after shutdown()).
    virtual void on_disconnect_user(user_sink close_sessions) = 0;

    // This node has closed its own sessions of `user`: have every other node close theirs (the
    // API's POST /api/disconnect). Must not block.
    virtual void disconnect_user(std::string const& user) = 0;

    // Stop: close connections, cancel timers. Called once, at server shutdown.
    virtual void shutdown() = 0;
};

// One process, nothing to forward, and no other node to tell of a disconnect.
class in_process_backplane final : public backplane {
public:
    void start(metrics&, remote_sink) override {}
    void subscribe(std::string const&) override {}
    void unsubscribe(std::string const&) override {}
    void publish(std::string const&, shared_payload const&) override {}
    bool healthy() const override { return true; }
    void on_disconnect_user(user_sink) override {}
    void disconnect_user(std::string const&) override {}
    void shutdown() override {}
};

}  // namespace coropush::pubsub
