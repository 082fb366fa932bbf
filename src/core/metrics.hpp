// Process-wide counters and gauges, rendered in the Prometheus text format for GET /metrics.
// Every field is a relaxed atomic: io threads bump them without locks, and a scrape reads a
// consistent-enough snapshot (Prometheus counters only need to be monotonic).
#pragma once

#include <boost/describe/enum.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

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

// The names /metrics gives the codes counted by code: each an enum's enumerator names, indexed by
// the enumerator's value (core/enum_names.hpp makes them). The enums belong to layers above core
// (protocol::errc, auth::token_errc), so the caller of render(), which may know them, passes them.
struct code_labels {
    std::span<std::string_view const> error_codes;   // protocol::errc
    std::span<std::string_view const> token_errors;  // auth::token_errc
};

class metrics {
public:
    // Connections.
    counter tcp_connections_total{0};
    gauge tcp_connections_open{0};
    gauge accepting_paused{0};  // 1 while --max-http-connections connections are not yet upgraded
    gauge sockets_closing{0};   // sockets of ended sessions waiting for the closer (net/socket_closer.hpp)
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
    counter backplane_published{0};       // messages forwarded to the other nodes: Redis answered
    counter backplane_received{0};        // messages from other nodes
    counter backplane_publish_drops{0};   // not forwarded: refused, or unanswered when the link gave up
    gauge backplane_unanswered_bytes{0};  // sent to the broker, reply not yet received (both connections)
    counter backplane_reply_timeouts{0};  // connections given up: a heartbeat went unanswered too long
    counter backplane_overloads{0};       // connections given up: too many bytes awaited a reply

    void handshake_failed(handshake_failure reason) noexcept;
    void close_sent(std::uint16_t close_code) noexcept;
    void api_answered(unsigned status) noexcept;  // a server API request, by its HTTP status

    std::uint64_t handshake_failures(handshake_failure reason) const noexcept;
    std::uint64_t closes_sent(std::uint16_t close_code) const noexcept;
    std::uint64_t api_answers(unsigned status) const noexcept;

    // Error envelopes by protocol::errc, and refused tokens by auth::token_errc: counted by the
    // code's value. Templates, so that core includes neither of those layers.
    template <class ErrorCode>
    void error_envelope(ErrorCode code) noexcept
    {
        by_code(error_envelopes_, code).fetch_add(1, std::memory_order_relaxed);
    }
    template <class ErrorCode>
    std::uint64_t error_envelopes(ErrorCode code) const noexcept
    {
        return by_code(error_envelopes_, code).load(std::memory_order_relaxed);
    }
    template <class TokenCode>
    void auth_failed(TokenCode code) noexcept
    {
        by_code(auth_failures_, code).fetch_add(1, std::memory_order_relaxed);
    }
    template <class TokenCode>
    std::uint64_t auth_failures(TokenCode code) const noexcept
    {
        return by_code(auth_failures_, code).load(std::memory_order_relaxed);
    }
    // How many codes of each kind there is room for (checked where the enums are known, net/http_routes.cpp).
    static constexpr std::size_t max_error_codes = 24;
    static constexpr std::size_t max_token_errors = 16;

    // The whole set in the Prometheus text exposition format (version 0.0.4).
    std::string render(code_labels const& labels) const;

    // Close codes counted one by one; any other code is counted as "other".
    static constexpr std::array<std::uint16_t, 13> tracked_close_codes{1000, 1001, 1002, 1003, 1007, 1008, 1009,
                                                                       1011, 1012, 4000, 4001, 4401, 0};
    // The server API's answers counted by status; any other status is counted as "other".
    static constexpr std::array<std::uint16_t, 12> tracked_api_statuses{200, 201, 400, 401, 404, 405,
                                                                        409, 413, 415, 429, 503, 0};

private:
    template <class Counters, class Code>
    static auto& by_code(Counters& counters, Code code) noexcept
    {
        static_assert(std::is_enum_v<Code>, "counted by code: an enum");
        return counters[static_cast<std::size_t>(code)];
    }

    std::array<counter, 16> handshake_failures_{};
    std::array<counter, max_error_codes> error_envelopes_{};
    std::array<counter, tracked_close_codes.size()> closes_sent_{};
    std::array<counter, max_token_errors> auth_failures_{};
    std::array<counter, tracked_api_statuses.size()> api_answers_{};
};

}  // namespace coropush
