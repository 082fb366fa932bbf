// The composition root: the one place that knows every feature. It builds the backplane, the server
// API, the auth checks and the dialects from the settings, registers their endpoints and routes
// (server/endpoints.cpp), adds the features (server/features.cpp: topics, jobs), and runs the
// graceful shutdown. Sessions hold a
// shared_ptr to it (as their session_context), so nothing a session uses can be destroyed while
// the session runs.
#pragma once

#include "api/server_api.hpp"
#include "auth/permissions.hpp"
#include "auth/token_verifier.hpp"
#include "config/options.hpp"
#include "net/session_context.hpp"
#include "pubsub/backplane.hpp"
#include "service/demo_replies.hpp"
#include "service/feature.hpp"
#include "service/json_extensions.hpp"
#include "service/service_context.hpp"
#include "service/user_sessions.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace coropush {

class server_state : public net::session_context, public std::enable_shared_from_this<server_state> {
public:
    server_state(boost::asio::io_context& io_context, server_options opts,
                 std::unique_ptr<pubsub::backplane> backplane);
    ~server_state() override;
    server_state(server_state const&) = delete;
    server_state& operator=(server_state const&) = delete;

    service::demo_replies const demo;
    std::unique_ptr<pubsub::backplane> link;
    api::server_api api;
    auth::access_policy const access;
    std::optional<auth::token_verifier> const verifier;  // none under --auth off
    service::user_sessions users;
    service::json_extensions json_messages;  // the features' message types of the JSON dialect
    // Topics, when this build has them: filled in by the topics feature (service/feature.hpp).
    service::topic_publisher publish_to_topics;
    service::topic_sink from_other_nodes;  // the backplane's deliveries
    service::service_context const services;
    std::vector<std::unique_ptr<service::feature>> features;  // server/features.cpp; stopped in finish_shutdown

    // Graceful shutdown (any thread, idempotent): refuse new sessions, close open ones with 1001
    // after flushing, and once they are gone (or the grace period is over) stop everything.
    void begin_shutdown(std::function<void()> on_stopped);
    // For the backend: closes every session authenticated as `user` with 4000 ("disconnected by
    // the application"), after each flushes what is queued, on this node (close_sessions_of) and,
    // through the backplane, on every other node. Any thread; returns how many on this node.
    std::size_t disconnect_user(std::string_view user) const;
    // The same on this node only: what another node's disconnect_user asks of this one.
    std::size_t close_sessions_of(std::string_view user) const;

    // Immediate stop (any thread): drop every connection and stop accepting.
    void stop_now();

private:
    static api::api_services make_api_services(server_state& server);
    service::feature_host host_for_features();
    net::readiness readiness_now() const;
    void last_session_ended() override;
    void finish_shutdown();

    boost::asio::steady_timer grace_timer_;  // on `control`
    std::function<void()> on_stopped_;       // on `control`
};

// Every WebSocket endpoint and HTTP route the server serves, added to `table`: the one place that
// lists them (server/endpoints.cpp). Removing a feature's endpoint is removing its line.
void add_endpoints(endpoints& table, server_state& server);

// Every feature that plugs into the dialect and the API (topics, jobs), added to `features`: one line each
// (server/features.cpp). Removing a feature is deleting its folder and its line.
void add_features(std::vector<std::unique_ptr<service::feature>>& features, service::feature_host const& host);

}  // namespace coropush
