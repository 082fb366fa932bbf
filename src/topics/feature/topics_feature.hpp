// Topics as a feature of the server: what server/features.cpp registers with one line. It runs the
// topic hub (this node's subscribers, and through the backplane every other node's), answers the
// topic messages of the coropush.v1 dialect (subscribe, unsubscribe, publish), serves the API's
// /api/publish, and is what other features publish through (a job's topic). Without src/topics/,
// the server answers those messages with unknown_type and /api/publish with 404
// (docs/template.md).
#pragma once

#include "api/server_api.hpp"
#include "service/feature.hpp"

#include <cstddef>
#include <memory>

namespace coropush::topics {
class topic_hub;
}
namespace coropush::service {
class json_extensions;
}

namespace coropush::topics_feature {

// The feature, built from the server's settings and registered with its dialect, its API, and the
// host's `publish` and `from_other_nodes`.
std::unique_ptr<service::feature> make_topics(service::feature_host const& host);

// Its parts, for tests and for a server assembled by hand:
// subscribe, unsubscribe and publish of the JSON dialect, answered with `hub`; each connection
// remembers its subscriptions (at most --max-subscriptions), and drops them when it closes.
void add_topic_messages(service::json_extensions& json, topics::topic_hub& hub);
// POST /api/publish: one message, or a batch ({"messages":[...]}) of at most `max_batch`, each
// checked before any is sent, handed to `publish` (docs/api.md).
api::api_resource publish_route(service::topic_publisher publish, std::size_t max_topic_length,
                                std::size_t max_batch = 1000);

}  // namespace coropush::topics_feature
