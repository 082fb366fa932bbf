// Process-wide counters and gauges, rendered in the Prometheus text format for GET /metrics.
// Every field is a relaxed atomic: io threads bump them without locks, and a scrape reads a
// consistent-enough snapshot (Prometheus counters only need to be monotonic).
#pragma once

#include "auth/token_errc.hpp"
#include "protocol/errc.hpp"

#include <boost/describe/enum.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace coropush {

// Why an HTTP connection did not become a WebSocket session, or an HTTP request failed early.
enum class handshake_failure {
    timeout,                // request + upgrade not done within the handshake timeout
    bad_request,            // unparsable HTTP, or a malformed upgrade (400)
    header_too_large,       // 431
    body_too_large,         // 413
    forbidden_origin,       // 403
    too_many_connections,   // 503
    shutting_down,          // 503
    not_found,              // upgrade on a path with no WebSocket endpoint (404)
    websocket_rejected,     // Beast refused the upgrade (bad key or version)
    too_many_from_address,  // the client's address has --max-connections-per-ip sessions open (429)
    tls,                    // the TLS handshake failed: plain HTTP to a TLS port, no common version, a bad certificate
};
BOOST_DESCRIBE_ENUM(handshake_failure, timeout, bad_request, header_too_large, body_too_large, forbidden_origin,
                    too_many_connections, shutting_down, not_found, websocket_rejected, too_many_from_address, tls)

using counter = std::atomic<std::uint64_t>;
using gauge = std::atomic<std::int64_t>;

class metrics {
public:
    // Connections.
    counter tcp_connections_total{0};
    gauge tcp_connections_open{0};
    counter websocket_sessions_total{0};
    gauge websocket_sessions_open{0};
    counter websocket_sessions_deflate{0};  // sessions that negotiated permessage-deflate (--deflate)

    // Traffic (WebSocket messages only; HTTP responses are not counted here).
    counter messages_in{0};
    counter messages_out{0};
    counter socket_writes{0};  // writes of WebSocket frames to sockets (a batch of frames is one)
    counter bytes_in{0};
    counter bytes_out{0};
    counter http_requests{0};

    // Backpressure and keep-alive.
    gauge queued_bytes{0};            // outbound bytes waiting in all connections' queues
    counter queue_drops{0};           // messages dropped by the drop_newest policy
    counter slow_consumer_closes{0};  // connections closed by the close policy
    counter coalesced_updates{0};     // queued job updates replaced by a newer one
    counter ping_timeouts{0};

    // Authentication, permissions and rate limits (refused tokens are counted by code, below).
    counter forbidden_operations{0};   // subscribe, publish or a job refused with `forbidden`
    counter rate_limited_messages{0};  // messages refused by --rate-messages (not handled)
    counter rate_limit_closes{0};      // connections closed (1008) for going on past the limit

    // Pub/sub and jobs.
    gauge subscriptions{0};
    gauge topics{0};
    counter publishes{0};
    counter deliveries{0};
    counter jobs_started{0};
    counter jobs_finished{0};  // done, failed or cancelled
    gauge jobs_running{0};
    counter backend_jobs_created{0};    // jobs created through the server API (also in jobs_started)
    counter backend_jobs_abandoned{0};  // backend jobs failed for their backend's silence

    // Scale-out backplane: 1 when connected (or in-process), 0 while reconnecting.
    gauge backplane_up{1};
    counter backplane_reconnects{0};
    gauge backplane_channels{0};          // topics the broker confirmed this node subscribed to
    counter backplane_published{0};       // messages forwarded to the other nodes
    counter backplane_received{0};        // messages from other nodes
    counter backplane_publish_drops{0};   // not forwarded: the broker was unreachable or not answering
    gauge backplane_unanswered_bytes{0};  // sent to the broker, reply not yet received (both connections)
    counter backplane_reply_timeouts{0};  // connections given up: a heartbeat went unanswered too long
    counter backplane_overloads{0};       // connections given up: too many bytes awaited a reply

    void handshake_failed(handshake_failure reason) noexcept;
    void error_envelope(protocol::errc code) noexcept;
    void close_sent(std::uint16_t close_code) noexcept;
    void auth_failed(auth::token_errc code) noexcept;
    void api_answered(unsigned status) noexcept;  // a server API request, by its HTTP status

    std::uint64_t handshake_failures(handshake_failure reason) const noexcept;
    std::uint64_t error_envelopes(protocol::errc code) const noexcept;
    std::uint64_t closes_sent(std::uint16_t close_code) const noexcept;
    std::uint64_t auth_failures(auth::token_errc code) const noexcept;
    std::uint64_t api_answers(unsigned status) const noexcept;

    // The whole set in the Prometheus text exposition format (version 0.0.4).
    std::string render() const;

    // Close codes counted one by one; any other code is counted as "other".
    static constexpr std::array<std::uint16_t, 12> tracked_close_codes{1000, 1001, 1002, 1003, 1007, 1008,
                                                                       1009, 1011, 4000, 4001, 4401, 0};
    // The server API's answers counted by status; any other status is counted as "other".
    static constexpr std::array<std::uint16_t, 12> tracked_api_statuses{200, 201, 400, 401, 404, 405,
                                                                        409, 413, 415, 429, 503, 0};

private:
    std::array<counter, 16> handshake_failures_{};
    std::array<counter, 24> error_envelopes_{};
    std::array<counter, tracked_close_codes.size()> closes_sent_{};
    std::array<counter, 16> auth_failures_{};
    std::array<counter, tracked_api_statuses.size()> api_answers_{};
};

}  // namespace coropush
