// Prometheus rendering of the metrics, and the labelled counters' indexing.
#include "core/metrics.hpp"

#include "core/enum_names.hpp"

#include <boost/describe/enum_to_string.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/mp11/algorithm.hpp>

#include <sstream>

namespace coropush {
namespace {

static_assert(enumerator_count<handshake_failure>() <= 16);

// Where `value` is counted in a table of tracked values whose last entry (0) is "other".
template <std::size_t N>
std::size_t tracked_index(std::array<std::uint16_t, N> const& tracked, unsigned value)
{
    for (std::size_t i = 0; i + 1 < N; ++i)
        if (tracked[i] == value)
            return i;
    return N - 1;
}

std::size_t close_index(std::uint16_t code)
{
    return tracked_index(metrics::tracked_close_codes, code);
}

// A family with one label whose values are the tracked numbers (0 written as "other").
template <std::size_t N, class Counters>
void tracked_family(std::ostringstream& out, char const* name, char const* help, char const* label,
                    std::array<std::uint16_t, N> const& tracked, Counters const& counters)
{
    out << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << " counter\n";
    for (std::size_t i = 0; i < N; ++i) {
        out << name << '{' << label << "=\"";
        if (tracked[i] == 0)
            out << "other";
        else
            out << tracked[i];
        out << "\"} " << counters[i].load(std::memory_order_relaxed) << '\n';
    }
}

void family(std::ostringstream& out, char const* name, char const* type, char const* help)
{
    out << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

template <class Value>
void sample(std::ostringstream& out, char const* name, Value value)
{
    out << name << ' ' << value << '\n';
}

template <class Number>
void single(std::ostringstream& out, char const* name, char const* type, char const* help,
            std::atomic<Number> const& value)
{
    family(out, name, type, help);
    sample(out, name, value.load(std::memory_order_relaxed));
}

// One sample per enumerator of Enum, labelled label="<enumerator name>".
template <class Enum, class Lookup>
void labelled(std::ostringstream& out, char const* name, char const* help, char const* label, Lookup lookup)
{
    family(out, name, "counter", help);
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<Enum>>(
        [&](auto d) { out << name << '{' << label << "=\"" << d.name << "\"} " << lookup(d.value) << '\n'; });
}

// One sample per code, labelled label="<the code's name>".
template <std::size_t N>
void coded(std::ostringstream& out, char const* name, char const* help, char const* label,
           std::span<std::string_view const> names, std::array<counter, N> const& counters)
{
    family(out, name, "counter", help);
    for (std::size_t i = 0; i < names.size() && i < N; ++i)
        out << name << '{' << label << "=\"" << names[i] << "\"} " << counters[i].load(std::memory_order_relaxed)
            << '\n';
}

}  // namespace

void metrics::handshake_failed(handshake_failure reason) noexcept
{
    handshake_failures_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::api_answered(unsigned status) noexcept
{
    api_answers_[tracked_index(tracked_api_statuses, status)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t metrics::api_answers(unsigned status) const noexcept
{
    return api_answers_[tracked_index(tracked_api_statuses, status)].load(std::memory_order_relaxed);
}

void metrics::close_sent(std::uint16_t close_code) noexcept
{
    closes_sent_[close_index(close_code)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t metrics::handshake_failures(handshake_failure reason) const noexcept
{
    return handshake_failures_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
}

std::uint64_t metrics::closes_sent(std::uint16_t close_code) const noexcept
{
    return closes_sent_[close_index(close_code)].load(std::memory_order_relaxed);
}

std::string metrics::render(code_labels const& labels) const
{
    std::ostringstream out;
    single(out, "coropush_tcp_connections_total", "counter", "TCP connections accepted.", tcp_connections_total);
    single(out, "coropush_tcp_connections_open", "gauge", "TCP connections open now (HTTP or WebSocket).",
           tcp_connections_open);
    single(out, "coropush_accepting_paused", "gauge",
           "1 while the server does not accept: --max-http-connections connections are not yet upgraded.",
           accepting_paused);
    single(out, "coropush_sockets_closing", "gauge",
           "Sockets of ended WebSocket sessions waiting to be closed, at the lowest priority, off the io threads.",
           sockets_closing);
    single(out, "coropush_websocket_sessions_total", "counter", "WebSocket sessions opened.", websocket_sessions_total);
    single(out, "coropush_websocket_sessions_open", "gauge", "WebSocket sessions open now.", websocket_sessions_open);
    single(out, "coropush_websocket_sessions_deflate_total", "counter",
           "WebSocket sessions opened with permessage-deflate (--deflate).", websocket_sessions_deflate);
    labelled<handshake_failure>(out, "coropush_handshake_failures_total",
                                "HTTP requests or upgrades that failed, by reason.", "reason",
                                [this](handshake_failure r) { return handshake_failures(r); });
    single(out, "coropush_http_requests_total", "counter", "HTTP requests answered.", http_requests);
    single(out, "coropush_messages_received_total", "counter", "WebSocket messages received.", messages_in);
    single(out, "coropush_messages_sent_total", "counter", "WebSocket messages sent.", messages_out);
    single(out, "coropush_socket_writes_total", "counter",
           "Writes of WebSocket frames to sockets: a batch of frames is one (see messages sent).", socket_writes);
    single(out, "coropush_received_bytes_total", "counter", "WebSocket payload bytes received.", bytes_in);
    single(out, "coropush_sent_bytes_total", "counter", "WebSocket payload bytes sent.", bytes_out);
    coded(out, "coropush_error_envelopes_total", "Error envelopes sent, by code.", "code", labels.error_codes,
          error_envelopes_);

    tracked_family(out, "coropush_close_codes_sent_total", "WebSocket close frames sent, by close code.", "code",
                   tracked_close_codes, closes_sent_);
    tracked_family(out, "coropush_api_requests_total", "Server API requests, by the HTTP status of the answer.",
                   "status", tracked_api_statuses, api_answers_);

    single(out, "coropush_queued_bytes", "gauge", "Outbound bytes waiting in connections' queues.", queued_bytes);
    single(out, "coropush_queue_drops_total", "counter", "Outbound messages dropped by the drop_newest policy.",
           queue_drops);
    single(out, "coropush_slow_consumer_closes_total", "counter",
           "Connections closed because their outbound queue was full.", slow_consumer_closes);
    single(out, "coropush_coalesced_updates_total", "counter",
           "Queued job updates replaced by a newer one before being sent.", coalesced_updates);
    single(out, "coropush_ping_timeouts_total", "counter", "Connections closed for not answering a ping.",
           ping_timeouts);
    coded(out, "coropush_auth_failures_total", "Tokens refused, by reason.", "code", labels.token_errors,
          auth_failures_);
    single(out, "coropush_forbidden_operations_total", "counter",
           "Subscribes, publishes, job requests and auth messages (another user's token) refused as forbidden.",
           forbidden_operations);
    single(out, "coropush_rate_limited_messages_total", "counter",
           "Messages refused, not handled, because their connection exceeded --rate-messages.", rate_limited_messages);
    single(out, "coropush_rate_limit_closes_total", "counter",
           "Connections closed (1008) for going on sending past the rate limit.", rate_limit_closes);
    single(out, "coropush_topics", "gauge", "Topics with at least one local subscriber.", topics);
    single(out, "coropush_subscriptions", "gauge", "Topic subscriptions held by local connections.", subscriptions);
    single(out, "coropush_publishes_total", "counter", "Messages published to topics.", publishes);
    single(out, "coropush_deliveries_total", "counter", "Topic messages queued for local subscribers.", deliveries);
    single(out, "coropush_jobs_started_total", "counter", "Jobs started.", jobs_started);
    single(out, "coropush_jobs_finished_total", "counter", "Jobs that ended (done, failed or cancelled).",
           jobs_finished);
    single(out, "coropush_jobs_running", "gauge", "Jobs running now.", jobs_running);
    single(out, "coropush_backend_jobs_created_total", "counter",
           "Jobs created by a backend through the server API (counted in coropush_jobs_started_total too).",
           backend_jobs_created);
    single(out, "coropush_backend_jobs_abandoned_total", "counter",
           "Backend jobs failed because their backend said nothing for --job-retention.", backend_jobs_abandoned);
    single(out, "coropush_backplane_up", "gauge", "1 when the scale-out backplane is connected.", backplane_up);
    single(out, "coropush_backplane_reconnects_total", "counter", "Reconnections to the backplane.",
           backplane_reconnects);
    single(out, "coropush_backplane_channels", "gauge", "Topics the backplane confirmed this node subscribed to.",
           backplane_channels);
    single(out, "coropush_backplane_published_total", "counter",
           "Messages forwarded to the other nodes: PUBLISHes the backplane answered.", backplane_published);
    single(out, "coropush_backplane_received_total", "counter", "Messages received from the other nodes.",
           backplane_received);
    single(out, "coropush_backplane_publish_drops_total", "counter",
           "Messages not forwarded to the other nodes: the backplane was unreachable, or stopped answering before it "
           "took them.",
           backplane_publish_drops);
    single(out, "coropush_backplane_unanswered_bytes", "gauge",
           "Bytes sent to the backplane whose reply has not arrived yet.", backplane_unanswered_bytes);
    single(out, "coropush_backplane_reply_timeouts_total", "counter",
           "Backplane connections given up because a heartbeat went unanswered past the reply timeout.",
           backplane_reply_timeouts);
    single(out, "coropush_backplane_overloads_total", "counter",
           "Backplane connections given up because more bytes than the limit awaited a reply.", backplane_overloads);
    return out.str();
}

}  // namespace coropush
