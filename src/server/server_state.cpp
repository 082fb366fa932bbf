// The features built from the settings, what the transport asks of them, and the graceful
// shutdown sequence.
#include "server/server_state.hpp"

#include "core/log.hpp"
#include "net/connection.hpp"
#include "net/upgrade.hpp"
#include "protocol/close_codes.hpp"
#include "protocol/codec.hpp"
#include "pubsub/redis_backplane.hpp"
#include "service/json_dialect.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace coropush {
namespace asio = boost::asio;

namespace {

service::demo_replies make_demo(server_options const& options)
{
    return service::demo_replies{
        make_payload(protocol::encode(protocol::notice{options.notice_text})),
        options.welcome_text,
        options.push_delay,
    };
}

api::api_settings make_api_settings(server_options const& options)
{
    api::api_settings settings;
    settings.key = options.api_key;
    settings.requests_per_second = options.api_rate;
    settings.burst = options.api_burst;
    return settings;
}

auth::access_policy make_access_policy(server_options const& options)
{
    return {options.auth, options.anonymous_subscribe, options.anonymous_publish};
}

// The token checker, when tokens are in use. The command line has checked the key already
// (auth::rules_problem); a server built in code with a bad one refuses every token.
std::optional<auth::token_verifier> make_verifier(server_options const& options)
{
    if (options.auth == auth::auth_mode::off)
        return std::nullopt;
    auth::token_rules rules;
    rules.algorithm = options.auth_algorithm;
    rules.key = options.auth_key;
    rules.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(options.auth_clock_skew);
    rules.issuer = options.auth_issuer;
    rules.audience = options.auth_audience;
    rules.max_topic_length = options.max_topic_length;
    return auth::token_verifier(std::move(rules));
}

}  // namespace

// What the API may do: know when it should not serve, disconnect users on every node, count.
api::api_services server_state::make_api_services(server_state& server)
{
    return api::api_services{[&server]() -> std::optional<std::string> {
                                 if (server.draining.load(std::memory_order_relaxed))
                                     return "the server is shutting down";
                                 if (!server.link->healthy())
                                     return "the backplane is unavailable: a message would not reach the other "
                                            "nodes, and jobs kept in Redis are out of reach";
                                 return std::nullopt;
                             },
                             [&server](std::string_view user) { return server.disconnect_user(user); },
                             [&server](unsigned status) { server.stats.api_answered(status); }};
}

service::feature_host server_state::host_for_features()
{
    return service::feature_host{io,    options,       stats, draining,          shards,
                                 *link, json_messages, api,   publish_to_topics, from_other_nodes};
}

server_state::server_state(asio::io_context& io_context, server_options opts,
                           std::unique_ptr<pubsub::backplane> backplane)
    : session_context(io_context, std::move(opts), [this] { return readiness_now(); }),
      demo(make_demo(options)),
      link(backplane ? std::move(backplane) : std::make_unique<pubsub::in_process_backplane>()),
      api(make_api_settings(options), make_api_services(*this)),
      access(make_access_policy(options)),
      verifier(make_verifier(options)),
      services{options, stats, demo, draining, access, verifier ? &*verifier : nullptr, users, json_messages},
      grace_timer_(control)
{
    add_endpoints(routes, *this);
    add_features(features, host_for_features());
}

server_state::~server_state() = default;

net::readiness server_state::readiness_now() const
{
    if (draining.load(std::memory_order_relaxed))
        return {false, "shutting down"};
    if (!link->healthy())
        return {false, "backplane unavailable"};
    return {true, "ready"};
}

void server_state::last_session_ended()
{
    asio::post(control, [self = shared_from_this()] { self->finish_shutdown(); });
}

void server_state::begin_shutdown(std::function<void()> on_stopped)
{
    asio::dispatch(control, [self = shared_from_this(), on_stopped = std::move(on_stopped)]() mutable {
        if (on_stopped)
            self->on_stopped_ = std::move(on_stopped);
        if (self->draining.exchange(true))
            return;
        auto const sessions = self->websocket_sessions();
        log_info(0, "shutting down: closing ", sessions, " WebSocket session(s), grace period ",
                 millis(self->options.shutdown_grace));
        // Say goodbye: each session flushes what it has queued (within the grace period), then
        // closes with 1001 (within the close timeout; the grace timer below ends what is left).
        for (auto const& c : self->registry.snapshot())
            c->close_websocket(1001, "server shutting down", self->options.shutdown_grace);
        if (sessions == 0) {
            self->finish_shutdown();
            return;
        }
        self->grace_timer_.expires_after(self->options.shutdown_grace);
        self->grace_timer_.async_wait([self](boost::system::error_code ec) {
            if (!ec) {
                log_warn(0, "grace period over: dropping ", self->websocket_sessions(), " session(s)");
                self->finish_shutdown();
            }
        });
    });
}

std::size_t server_state::disconnect_user(std::string_view user) const
{
    auto const closed = close_sessions_of(user);
    link->disconnect_user(std::string(user));
    return closed;
}

std::size_t server_state::close_sessions_of(std::string_view user) const
{
    auto const sessions = users.of(user);
    log_info(0, "disconnecting ", sessions.size(), " session(s) of a user");
    for (auto const& session : sessions)
        session->close_websocket(protocol::close_codes::disconnected, "disconnected by the application");
    return sessions.size();
}

void server_state::stop_now()
{
    asio::dispatch(control, [self = shared_from_this()] {
        self->draining = true;
        self->finish_shutdown();
    });
}

void server_state::finish_shutdown()
{
    if (!mark_stopped())
        return;
    grace_timer_.cancel();
    deadlines.stop();
    boost::system::error_code ignored;
    acceptor.close(ignored);
    log_info(0, "no longer accepting connections");
    for (auto const& c : registry.snapshot())
        c->abort("server stopped");
    for (auto const& feature : features)
        feature->stop();
    link->shutdown();
    log_info(0, "stopped");
    if (auto callback = std::exchange(on_stopped_, nullptr))
        callback();
}

}  // namespace coropush
