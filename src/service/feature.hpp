// How a feature plugs itself into the server. A feature (topics, jobs) is one folder of src/ and
// one line of server/features.cpp, which calls its factory with the feature_host: the parts of the server a
// feature may use and the places it registers with. The factory builds what the feature runs,
// registers its JSON message types (service/json_extensions.hpp), its HTTP API endpoints
// (api::server_api::add), and returns it for the server to own and to stop. Deleting the folder and
// its lines leaves a server without the feature, which answers its messages with unknown_type and
// its API paths with 404.
#pragma once

#include "config/options.hpp"
#include "core/fanout_shards.hpp"
#include "core/metrics.hpp"
#include "core/outbound.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>

namespace coropush::pubsub {
class backplane;
}
namespace coropush::api {
class server_api;
}

namespace coropush::service {

class json_extensions;

class feature {
public:
    virtual ~feature() = default;
    // The server has stopped its sessions and is about to stop the backplane: end the feature's
    // timers and work. On the server's control strand, once.
    virtual void stop() = 0;
};

// Publishes an envelope (written once: topic_envelope) to a topic's subscribers on every node;
// returns how many on this node it was handed to.
using topic_publisher = std::function<std::size_t(std::string const& topic, shared_payload const& envelope)>;
// Hands a message another node published to this node's subscribers of its topic.
using topic_sink = std::function<void(std::string const& topic, shared_payload const& envelope)>;

struct feature_host {
    boost::asio::io_context& io;
    server_options const& options;
    metrics& stats;
    std::atomic<bool> const& draining;  // true once the server shuts down: refuse new work
    fanout_shards& shards;              // the io threads, for a fan-out split by thread
    pubsub::backplane& link;            // the backplane (Redis with --backplane)
    json_extensions& json;              // the coropush.v1 dialect's message types
    api::server_api& api;               // the server API for backends
    // Topics, filled in by the topics feature (src/topics/) and empty in a build without it, so a
    // feature that publishes (a job's topic) calls `publish` only when it is set, at the time it
    // publishes: the server owns both and outlives every feature.
    topic_publisher& publish;
    topic_sink& from_other_nodes;  // what the backplane hands over from other nodes
};

}  // namespace coropush::service
