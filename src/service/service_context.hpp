// What the dialects need from the server, in one place: settings, counters, the demo's replies,
// the topic hub and the jobs. Owned by the server; outlives every session.
#pragma once

#include "core/metrics.hpp"
#include "core/options.hpp"
#include "service/plain_dialect.hpp"

#include <atomic>

namespace coropush {

class topic_hub;
class job_manager;

struct service_context {
    server_options const& options;
    metrics& stats;
    demo_replies const& demo;
    topic_hub& hub;
    job_manager& jobs;
    std::atomic<bool> const& draining;
};

}  // namespace coropush
