// How a feature plugs itself into the server. A feature (jobs) is one folder of src/ and one line
// of server/features.cpp, which calls its factory with the feature_host: the parts of the server a
// feature may use and the places it registers with. The factory builds what the feature runs,
// registers its JSON message types (service/json_extensions.hpp), its HTTP API endpoints
// (api::server_api::add), and returns it for the server to own and to stop. Deleting the folder and
// the line leaves a server without the feature, which answers its messages with unknown_type and
// its API paths with 404.
#pragma once

#include "config/options.hpp"
#include "core/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>

namespace coropush::pubsub {
class topic_hub;
class backplane;
}  // namespace coropush::pubsub
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

struct feature_host {
    boost::asio::io_context& io;
    server_options const& options;
    metrics& stats;
    std::atomic<bool> const& draining;  // true once the server shuts down: refuse new work
    pubsub::topic_hub& hub;             // topics: publish to every node's subscribers
    pubsub::backplane& link;            // the backplane (Redis with --backplane)
    json_extensions& json;              // the coropush.v1 dialect's message types
    api::server_api& api;               // the server API for backends
};

}  // namespace coropush::service
