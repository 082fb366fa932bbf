// Every setting of the server in one plain struct, with the defaults the docs list.
// Parsing it from the command line lives in server/command_line.hpp; tests build it directly.
#pragma once

#include "auth/permissions.hpp"
#include "auth/token_verifier.hpp"
#include "core/log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace coropush {

using duration = std::chrono::steady_clock::duration;

// What happens when a client reads slower than the server pushes and its outbound queue is full.
enum class overflow_policy {
    close,       // close the connection with 1008 ("slow consumer"): nothing is silently lost
    drop_newest  // drop the message that does not fit and count it; the connection stays open
};

struct server_options {
    // Where to listen and what to serve.
    std::string address = "127.0.0.1";
    std::uint16_t port = 1337;
    std::string web_root;  // empty: the web/ directory of the source tree this was built from
    // io threads running the io_context; 0: one per hardware thread. The server trusts this
    // number: with 1 it relies on the single thread instead of a strand per shard.
    unsigned threads = 0;
    log_level log = log_level::info;
    // TLS on the port (HTTPS and wss://) when both are set: the PEM certificate chain, and its
    // key (not readable by other users). Reloaded on SIGHUP.
    std::string tls_cert_file;
    std::string tls_key_file;

    // The demo's texts and timing.
    std::string welcome_text = "欢迎你朋友！";
    std::string notice_text = "朋友，既然来就多看看！";
    duration push_delay = std::chrono::seconds(1);

    // Limits on what a client may send.
    std::size_t max_message_bytes = std::size_t{64} * 1024;  // larger WebSocket messages are closed with 1009
    std::size_t max_header_bytes = std::size_t{8} * 1024;    // larger HTTP headers get 431
    std::size_t max_body_bytes = std::size_t{16} * 1024;     // larger HTTP bodies get 413
    std::size_t max_connections = 10000;                     // upgrades past it get 503
    std::size_t max_http_connections = 10000;                // connections not yet upgraded; past it, accepting waits
    // Origins an upgrade is accepted from; others get 403. Empty: the default policy of
    // net/origin_policy.hpp (no Origin, the server's own origin, or a localhost origin).
    std::vector<std::string> allowed_origins;

    // Outbound queue per connection, and what happens when it is full.
    std::size_t max_queue_messages = 1024;
    std::size_t max_queue_bytes = std::size_t{4} * 1024 * 1024;
    overflow_policy on_overflow = overflow_policy::close;

    // Keep-alive and deadlines.
    duration ping_interval = std::chrono::seconds(20);      // ping a connection silent this long
    duration ping_timeout = std::chrono::seconds(10);       // and close it if it stays silent this long
    duration handshake_timeout = std::chrono::seconds(10);  // HTTP request + WebSocket upgrade
    duration close_timeout = std::chrono::seconds(5);       // the WebSocket closing handshake
    duration shutdown_grace = std::chrono::seconds(10);     // SIGTERM: time to flush and close

    // The raw echo endpoint for conformance suites (off when empty).
    std::string echo_path;
    std::size_t echo_max_message_bytes = std::size_t{16} * 1024 * 1024;

    // permessage-deflate (RFC 7692), negotiated with clients that offer it; off unless asked: it
    // costs memory per connection and CPU per message (net/deflate_settings.hpp has the settings and why).
    bool deflate = false;
    // With deflate: keep the compression context from one message to the next, both ways.
    bool deflate_context_takeover = false;

    // Pub/sub.
    std::size_t max_subscriptions = 64;  // per connection
    std::size_t max_topic_length = 128;

    // Jobs.
    unsigned max_jobs_per_connection = 4;
    unsigned max_jobs_total = 1000;
    unsigned max_job_steps = 1000;
    duration job_step_time = std::chrono::milliseconds(500);
    duration job_retention = std::chrono::minutes(5);

    // Scale-out: empty for the in-process backplane, or redis://HOST:PORT.
    std::string backplane;
    // Each Redis connection sends a heartbeat this often, and counts as down when one goes
    // unanswered for the reply timeout, or when more bytes than the limit await a reply.
    duration backplane_heartbeat = std::chrono::seconds(1);
    duration backplane_reply_timeout = std::chrono::seconds(3);
    std::size_t backplane_max_unanswered = std::size_t{8} * 1024 * 1024;

    // The server API for backends (/api/, docs/api.md). The key comes from --api-key-file or the
    // COROPUSH_API_KEY environment variable, never from the command line (other local users can
    // read a process's command line); empty: no API.
    std::string api_key;
    std::size_t api_max_body_bytes = std::size_t{1024} * 1024;  // larger request bodies get 413
    unsigned api_rate = 200;                                    // requests a second for the key; 0: no limit
    unsigned api_burst = 400;                                   // requests at once before the rate applies

    // Operations: when set, POST /admin/disconnect with "Authorization: Bearer <token>" closes
    // every WebSocket session (to rebalance nodes, or to test clients' reconnection).
    std::string admin_token;

    // Who may do what on the JSON dialect (docs/options.md, "Authentication and rate limits").
    auth::auth_mode auth = auth::auth_mode::off;
    std::string auth_key_file;  // --auth-key-file: where auth_key was read from
    // The HS256 secret or the RS256/ES256 PEM public key: read from auth_key_file by the command
    // line, or taken from COROPUSH_AUTH_KEY. Never a command-line value (it would show in `ps`).
    std::string auth_key;
    auth::token_algorithm auth_algorithm = auth::token_algorithm::hs256;
    std::string auth_issuer;    // empty: "iss" is not checked
    std::string auth_audience;  // empty: "aud" is not checked
    duration auth_clock_skew = std::chrono::seconds(30);
    std::vector<std::string> anonymous_subscribe;  // topic patterns for clients without a token (optional mode)
    std::vector<std::string> anonymous_publish;
    unsigned rate_messages = 100;  // per second and connection (JSON dialect); 0: no limit
    unsigned rate_burst = 200;     // messages at once before the rate applies
    // WebSocket sessions from one client address; 0: no cap. Off by default: behind a proxy or a
    // carrier's NAT every client shares one address.
    std::size_t max_connections_per_ip = 0;
};

}  // namespace coropush
