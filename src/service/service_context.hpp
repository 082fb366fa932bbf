// What the dialects need from the server, in one place: settings, counters, the demo's replies,
// who may do what, and the message types features added (topics, jobs). Owned by the server;
// outlives every session.
#pragma once

#include "auth/permissions.hpp"
#include "config/options.hpp"
#include "core/metrics.hpp"
#include "service/demo_replies.hpp"

#include <atomic>

namespace coropush::auth {
class token_verifier;
}

namespace coropush::service {

class user_sessions;
class json_extensions;

struct service_context {
    server_options const& options;
    metrics& stats;
    demo_replies const& demo;
    std::atomic<bool> const& draining;
    auth::access_policy const& access;     // --auth and the anonymous patterns
    auth::token_verifier const* verifier;  // checks `auth` tokens; nullptr under --auth off
    user_sessions& users;                  // authenticated sessions by user, for the backend
    json_extensions const& extensions;     // the features' message types (topics, jobs)
};

}  // namespace coropush::service
