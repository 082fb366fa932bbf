// The option table and the parser built on it.
#include "server/command_line.hpp"

#include "auth/topic_pattern.hpp"
#include "net/origin_policy.hpp"
#include "pubsub/redis_url.hpp"

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace coropush {
namespace {

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = kib * kib;

// The longest any duration option may be. Every one of them is a delay or a deadline that a
// person waits for; a longer value is a typo (and 9999999h would not even fit the clock's type).
constexpr duration max_duration = std::chrono::hours(24);

// A token file is a line of text; anything bigger is the wrong file.
constexpr std::size_t max_token_file_bytes = 4 * kib;

// What a setter says about a value: nothing when it was taken, otherwise what is wrong.
using problem = std::optional<std::string>;

struct option_spec {
    std::string_view name;     // without the leading "--"
    std::string_view metavar;  // empty for flags
    std::string_view help;
    std::function<problem(server_options&, std::string_view)> set;
    std::function<std::string(server_options const&)> show;  // the default, for --help
};

template <class Number>
std::optional<Number> parse_number(std::string_view text)
{
    Number value{};
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::string show_duration(duration d)
{
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms != 0 && ms % 3600000 == 0)
        return std::to_string(ms / 3600000) + "h";
    if (ms != 0 && ms % 60000 == 0)
        return std::to_string(ms / 60000) + "m";
    if (ms != 0 && ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

// `count` of `Unit` as a duration, or nothing when the clock's type cannot hold it.
template <class Unit>
std::optional<duration> to_duration(std::int64_t count)
{
    if (count > std::chrono::duration_cast<Unit>(duration::max()).count())
        return std::nullopt;
    return std::chrono::duration_cast<duration>(Unit(count));
}

std::string show_size(std::size_t bytes)
{
    if (bytes != 0 && bytes % mib == 0)
        return std::to_string(bytes / mib) + "m";
    if (bytes != 0 && bytes % kib == 0)
        return std::to_string(bytes / kib) + "k";
    return std::to_string(bytes);
}

// Builders for the common kinds of option.
template <class Number>
option_spec number(std::string_view name, std::string_view help, Number server_options::*field, Number low, Number high)
{
    return {name, "N", help,
            [=](server_options& o, std::string_view v) -> problem {
                auto const n = parse_number<Number>(v);
                if (!n || *n < low || *n > high)
                    return "expects a whole number from " + std::to_string(low) + " to " + std::to_string(high);
                o.*field = *n;
                return std::nullopt;
            },
            [=](server_options const& o) { return std::to_string(o.*field); }};
}

option_spec size(std::string_view name, std::string_view help, std::size_t server_options::*field, std::size_t low,
                 std::size_t high)
{
    return {name, "BYTES", help,
            [=](server_options& o, std::string_view v) -> problem {
                auto const n = parse_size(v);
                if (!n || *n < low || *n > high)
                    return "expects a size from " + show_size(low) + " to " + show_size(high) +
                           " bytes (suffix k or m for KiB or MiB)";
                o.*field = *n;
                return std::nullopt;
            },
            [=](server_options const& o) { return show_size(o.*field); }};
}

option_spec time(std::string_view name, std::string_view help, duration server_options::*field, bool zero_ok)
{
    return {name, "DURATION", help,
            [=](server_options& o, std::string_view v) -> problem {
                auto const d = parse_duration(v);
                if (!d || (!zero_ok && *d == duration::zero()) || *d > max_duration)
                    return "expects a duration such as 250ms, 10s or 5m, " +
                           std::string(zero_ok ? "" : "above 0 and ") + "up to " + show_duration(max_duration);
                o.*field = *d;
                return std::nullopt;
            },
            [=](server_options const& o) { return show_duration(o.*field); }};
}

option_spec text(std::string_view name, std::string_view metavar, std::string_view help,
                 std::string server_options::*field)
{
    return {
        name, metavar, help,
        [=](server_options& o, std::string_view v) -> problem {
            o.*field = std::string(v);
            return std::nullopt;
        },
        [=](server_options const& o) { return (o.*field).empty() ? std::string("(none)") : "\"" + o.*field + "\""; }};
}

// An on/off option: `--name` alone turns it on. `--name=off`, or COROPUSH_NAME in the environment,
// says which with on or off (true/false and 1/0 are taken too).
option_spec flag(std::string_view name, std::string_view help, bool server_options::*field)
{
    return {name, "", help,
            [=](server_options& o, std::string_view v) -> problem {
                if (v == "on" || v == "true" || v == "1")
                    o.*field = true;
                else if (v == "off" || v == "false" || v == "0")
                    o.*field = false;
                else
                    return "expects on or off";
                return std::nullopt;
            },
            [=](server_options const& o) { return std::string(o.*field ? "on" : "off"); }};
}

// A secret (the admin token, the API key) from a file, a mounted secret say, read once, here,
// at start: a secret given on the command line can be read by every local user in
// /proc/PID/cmdline.
problem read_secret_file(std::string& secret, std::string_view path, std::size_t most = max_token_file_bytes)
{
    std::string const name(path);
    std::error_code ec;
    if (std::filesystem::is_directory(name, ec))
        return "is a directory, not a file holding the secret";
    std::ifstream file(name, std::ios::binary);
    std::string text(most + 1, '\0');
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (!file.is_open() || file.bad())
        return "cannot read the file";
    text.resize(static_cast<std::size_t>(file.gcount()));
    if (text.size() > most)
        return "the file is larger than " + show_size(most) + ": not a secret";
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();  // the newline an editor or `echo` adds is not part of the secret
    if (text.empty())
        return "the file is empty";
    secret = std::move(text);
    return std::nullopt;
}

// An option whose value is a secret read from the file it names.
option_spec secret_file(std::string_view name, std::string_view help, std::string server_options::*field)
{
    return {name, "PATH", help,
            [=](server_options& o, std::string_view path) { return read_secret_file(o.*field, path); },
            [](server_options const&) { return std::string("(none)"); }};
}

// `text` with each letter passed through `convert` (::toupper or ::tolower): the options write the
// algorithms in lower case, JOSE in upper case.
std::string recased(std::string_view text, int (*convert)(int))
{
    std::string out(text);
    for (auto& c : out)
        c = static_cast<char>(convert(static_cast<unsigned char>(c)));
    return out;
}

// A repeatable topic pattern ("news.*"); checked against --max-topic-length once all are read.
option_spec topic_patterns(std::string_view name, std::string_view help,
                           std::vector<std::string> server_options::*field)
{
    return {name, "PATTERN", help,
            [=](server_options& o, std::string_view v) -> problem {
                if (!auth::valid_topic_pattern(v, 1024))
                    return "expects a topic pattern: A-Z a-z 0-9 . _ : / - and * for any run of them";
                (o.*field).emplace_back(v);
                return std::nullopt;
            },
            [=](server_options const& o) {
                std::string all;
                for (auto const& p : o.*field)
                    all += (all.empty() ? "" : " ") + p;
                return all.empty() ? std::string("(none)") : all;
            }};
}

// The checks that need every option read: where the key comes from (the file wins over
// COROPUSH_AUTH_KEY, as the command line wins over the environment), whether it suits the
// algorithm, and whether the anonymous patterns fit --max-topic-length.
problem check_auth_options(server_options& o, environment_lookup const& environment)
{
    for (auto const* patterns : {&o.anonymous_subscribe, &o.anonymous_publish})
        for (auto const& pattern : *patterns)
            if (!auth::valid_topic_pattern(pattern, o.max_topic_length))
                return "topic pattern '" + pattern + "' is longer than --max-topic-length";
    if (o.auth == auth::auth_mode::off)
        return std::nullopt;
    if (!o.auth_key_file.empty()) {
        // A PEM public key is larger than a token: up to 64 KiB.
        if (auto bad = read_secret_file(o.auth_key, o.auth_key_file, 64 * kib))
            return "cannot read --auth-key-file " + o.auth_key_file + ": " + *bad;
    } else if (auto const from_environment = environment ? environment("COROPUSH_AUTH_KEY") : std::nullopt) {
        o.auth_key = *from_environment;
    }
    if (o.auth_key.empty())
        return "--auth " + std::string(auth::to_string(o.auth)) +
               " needs the key that checks tokens: --auth-key-file FILE, or COROPUSH_AUTH_KEY";
    auth::token_rules rules;
    rules.algorithm = o.auth_algorithm;
    rules.key = o.auth_key;
    if (auto const wrong = auth::rules_problem(rules))
        return "the auth key: " + *wrong;
    return std::nullopt;
}

std::vector<option_spec> const& options_table()
{
    static std::vector<option_spec> const table = [] {
        using o = server_options;
        std::vector<option_spec> t;
        t.push_back({"address", "ADDR", "IP address to listen on (0.0.0.0 or :: for all interfaces)",
                     [](o& opts, std::string_view v) -> problem {
                         boost::system::error_code ec;
                         boost::asio::ip::make_address(std::string(v), ec);
                         if (ec)
                             return "expects an IPv4 or IPv6 address";
                         opts.address = std::string(v);
                         return std::nullopt;
                     },
                     [](o const& opts) { return opts.address; }});
        t.push_back(number<std::uint16_t>("port", "TCP port (0: any free port)", &o::port, 0, 65535));
        t.push_back(
            text("web-root", "DIR", "directory of the files served over HTTP (none: this tree's web/)", &o::web_root));
        t.push_back(text("tls-cert", "FILE",
                         "serve HTTPS and wss:// with this PEM certificate chain (with --tls-key; SIGHUP reloads)",
                         &o::tls_cert_file));
        t.push_back(text("tls-key", "FILE", "the certificate's PEM private key, not readable by other users",
                         &o::tls_key_file));
        t.push_back(number<unsigned>("threads", "io threads (0: one per hardware thread)", &o::threads, 0, 1024));
        t.push_back({"log-level", "LEVEL", "trace, debug, info, warn, error or off",
                     [](o& opts, std::string_view v) -> problem {
                         auto const level = parse_log_level(v);
                         if (!level)
                             return "expects trace, debug, info, warn, error or off";
                         opts.log = *level;
                         return std::nullopt;
                     },
                     [](o const& opts) {
                         std::string name(to_string(opts.log));
                         for (auto& c : name)
                             c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                         return name;
                     }});
        t.push_back(text("welcome", "TEXT", "the demo's reply to each message", &o::welcome_text));
        t.push_back(text("notice", "TEXT", "the demo's second message, pushed after --push-delay", &o::notice_text));
        t.push_back(time("push-delay", "delay before the notice", &o::push_delay, true));
        t.push_back(size("max-message", "largest WebSocket message accepted (larger: close 1009)",
                         &o::max_message_bytes, 16, 64 * mib));
        t.push_back(
            size("max-header", "largest HTTP request header (larger: 431)", &o::max_header_bytes, 512, 1024 * kib));
        t.push_back(size("max-body", "largest HTTP request body (larger: 413)", &o::max_body_bytes, 0, 64 * mib));
        t.push_back(number<std::size_t>("max-connections", "WebSocket sessions at once (more: 503)",
                                        &o::max_connections, 1, 10'000'000));
        t.push_back(number<std::size_t>("max-http-connections",
                                        "connections not yet upgraded (TLS handshake, HTTP requests) at once; "
                                        "while there are this many, new ones wait to be accepted",
                                        &o::max_http_connections, 1, 10'000'000));
        t.push_back({"allow-origin", "ORIGIN", "accept upgrades from this Origin only (repeatable; * for any)",
                     [](o& opts, std::string_view v) -> problem {
                         if (auto wrong = net::allowed_origin_problem(v))
                             return wrong;
                         opts.allowed_origins.emplace_back(v);
                         return std::nullopt;
                     },
                     [](o const& opts) {
                         std::string all;
                         for (auto const& a : opts.allowed_origins)
                             all += (all.empty() ? "" : " ") + a;
                         return all.empty() ? std::string("(same origin or loopback)") : all;
                     }});
        t.push_back(number<std::size_t>("queue-messages", "outbound queue limit per connection, in messages",
                                        &o::max_queue_messages, 1, 1'000'000));
        t.push_back(size("queue-bytes", "outbound queue limit per connection, in bytes", &o::max_queue_bytes, 1024,
                         1024 * mib));
        t.push_back(
            {"overflow", "POLICY",
             "when a client's queue is full: close (1008, slow consumer) or drop (the new message)",
             [](o& opts, std::string_view v) -> problem {
                 if (v == "close")
                     opts.on_overflow = overflow_policy::close;
                 else if (v == "drop")
                     opts.on_overflow = overflow_policy::drop_newest;
                 else
                     return "expects close or drop";
                 return std::nullopt;
             },
             [](o const& opts) { return std::string(opts.on_overflow == overflow_policy::close ? "close" : "drop"); }});
        t.push_back(
            time("ping-interval", "ping a connection after this much silence (0: never)", &o::ping_interval, true));
        t.push_back(
            time("ping-timeout", "drop a pinged connection that stays silent this long", &o::ping_timeout, false));
        t.push_back(time("handshake-timeout", "limit for an HTTP request and the WebSocket upgrade",
                         &o::handshake_timeout, false));
        t.push_back(time("close-timeout", "limit for the WebSocket closing handshake", &o::close_timeout, false));
        t.push_back(time("shutdown-grace", "on SIGINT/SIGTERM, time for sessions to flush and close",
                         &o::shutdown_grace, true));
        t.push_back(text("echo-path", "PATH", "serve a raw echo WebSocket endpoint here (e.g. /echo)", &o::echo_path));
        t.push_back(
            size("echo-max-message", "largest message on the echo endpoint", &o::echo_max_message_bytes, 16, 64 * mib));
        t.push_back(flag("deflate", "compress messages (permessage-deflate) with clients that offer it", &o::deflate));
        t.push_back(flag("deflate-context-takeover",
                         "with --deflate, keep the compression context from one message to the next",
                         &o::deflate_context_takeover));
        t.push_back(number<std::size_t>("max-subscriptions", "topics one connection may subscribe to",
                                        &o::max_subscriptions, 1, 100'000));
        t.push_back(number<std::size_t>("max-topic-length", "longest topic name", &o::max_topic_length, 1, 1024));
        t.push_back(number<unsigned>("max-jobs-per-connection", "running jobs one connection may start",
                                     &o::max_jobs_per_connection, 1, 100'000));
        t.push_back(number<unsigned>("max-jobs",
                                     "jobs kept at once, running or finished (browsers' and the backend's apart)",
                                     &o::max_jobs_total, 1, 10'000'000));
        t.push_back(number<unsigned>("max-job-steps", "most steps a job may ask for", &o::max_job_steps, 1, 1'000'000));
        t.push_back(
            time("job-step-time", "length of a job step when the client does not say", &o::job_step_time, true));
        t.push_back(time("job-retention",
                         "how long a finished job can still be resumed, and a backend job may go unheard",
                         &o::job_retention, true));
        t.push_back(
            {"backplane", "URL",
             "share topics with other nodes through Redis: redis://HOST[:PORT][/NAMESPACE] (default: in-process)",
             [](o& opts, std::string_view v) -> problem {
                 if (!v.empty() && !pubsub::parse_redis_url(v))
                     return "expects redis://HOST[:PORT][/NAMESPACE]";
                 opts.backplane = std::string(v);
                 return std::nullopt;
             },
             [](o const& opts) { return opts.backplane.empty() ? std::string("(in-process)") : opts.backplane; }});
        t.push_back(time("backplane-heartbeat", "how often each Redis connection checks that Redis answers",
                         &o::backplane_heartbeat, false));
        t.push_back(time("backplane-reply-timeout", "a Redis heartbeat unanswered this long: the connection is down",
                         &o::backplane_reply_timeout, false));
        t.push_back(size("backplane-max-unanswered",
                         "bytes sent to Redis awaiting a reply, per connection; more: the connection is down",
                         &o::backplane_max_unanswered, 4 * kib, 1024 * mib));
        t.push_back(text("admin-token", "TOKEN",
                         "enable POST /admin/disconnect for requests with \"Authorization: Bearer TOKEN\" (visible "
                         "to other local users in /proc/PID/cmdline: prefer --admin-token-file or the environment)",
                         &o::admin_token));
        t.push_back(secret_file("admin-token-file",
                                "the admin token, from this file (read once at start; a trailing newline is dropped)",
                                &o::admin_token));
        t.push_back(secret_file("api-key-file",
                                "enable the server API (/api/) with the key in this file; or COROPUSH_API_KEY",
                                &o::api_key));
        t.push_back(
            size("api-max-body", "largest server API request body (larger: 413)", &o::api_max_body_bytes, 0, 64 * mib));
        t.push_back(number<unsigned>("api-rate", "server API requests a second for the key (0: no limit)", &o::api_rate,
                                     0, 10'000'000));
        t.push_back(number<unsigned>("api-burst", "server API requests at once before the rate applies", &o::api_burst,
                                     1, 10'000'000));
        t.push_back({"auth", "MODE", "tokens on the JSON dialect: off, optional or required",
                     [](o& opts, std::string_view v) -> problem {
                         auto const mode = auth::parse_auth_mode(v);
                         if (!mode)
                             return "expects off, optional or required";
                         opts.auth = *mode;
                         return std::nullopt;
                     },
                     [](o const& opts) { return std::string(auth::to_string(opts.auth)); }});
        t.push_back(text("auth-key-file", "FILE",
                         "the HS256 secret, or the RS256/ES256 PEM public key (or COROPUSH_AUTH_KEY: the key itself)",
                         &o::auth_key_file));
        t.push_back({"auth-algorithm", "ALG", "the tokens' signature: hs256, rs256 or es256",
                     [](o& opts, std::string_view v) -> problem {
                         auto const algorithm = auth::parse_token_algorithm(recased(v, ::toupper));
                         if (!algorithm)
                             return "expects hs256, rs256 or es256";
                         opts.auth_algorithm = *algorithm;
                         return std::nullopt;
                     },
                     [](o const& opts) { return recased(auth::to_string(opts.auth_algorithm), ::tolower); }});
        t.push_back(text("auth-issuer", "ISS", "accept only tokens whose \"iss\" is this", &o::auth_issuer));
        t.push_back(text("auth-audience", "AUD", "accept only tokens whose \"aud\" names this", &o::auth_audience));
        t.push_back(time("auth-clock-skew", "tolerance on token times, in whole seconds", &o::auth_clock_skew, true));
        t.push_back(topic_patterns("anonymous-subscribe",
                                   "topics clients without a token may subscribe to, --auth optional (repeatable)",
                                   &o::anonymous_subscribe));
        t.push_back(topic_patterns("anonymous-publish",
                                   "topics clients without a token may publish to, --auth optional (repeatable)",
                                   &o::anonymous_publish));
        t.push_back(number<unsigned>("rate-messages", "messages a second one JSON connection may send (0: no limit)",
                                     &o::rate_messages, 0, 1'000'000));
        t.push_back(number<unsigned>("rate-burst", "messages a JSON connection may send at once, beyond the rate",
                                     &o::rate_burst, 1, 1'000'000));
        t.push_back(number<std::size_t>("max-connections-per-ip",
                                        "WebSocket sessions from one client address (more: 429; 0: no cap)",
                                        &o::max_connections_per_ip, 0, 10'000'000));
        return t;
    }();
    return table;
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text)
{
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0 || digits > 9)
        return std::nullopt;
    auto const value = parse_number<std::int64_t>(text.substr(0, digits));
    auto const unit = text.substr(digits);
    if (!value)
        return std::nullopt;
    if (unit == "ms")
        return to_duration<std::chrono::milliseconds>(*value);
    if (unit == "s")
        return to_duration<std::chrono::seconds>(*value);
    if (unit == "m")
        return to_duration<std::chrono::minutes>(*value);
    if (unit == "h")
        return to_duration<std::chrono::hours>(*value);
    if (unit.empty() && *value == 0)
        return duration::zero();
    return std::nullopt;
}

std::optional<std::size_t> parse_size(std::string_view text)
{
    std::size_t multiplier = 1;
    if (!text.empty() && (text.back() == 'k' || text.back() == 'K'))
        multiplier = kib;
    else if (!text.empty() && (text.back() == 'm' || text.back() == 'M'))
        multiplier = mib;
    if (multiplier != 1)
        text.remove_suffix(1);
    auto const value = parse_number<std::size_t>(text);
    if (!value || *value > std::numeric_limits<std::size_t>::max() / multiplier)
        return std::nullopt;
    return *value * multiplier;
}

std::string environment_name(std::string_view option)
{
    std::string name = "COROPUSH_";
    for (char const c : option)
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

command_line parse_command_line(std::vector<std::string_view> const& args, environment_lookup const& environment)
{
    command_line result;
    auto const error = [&](std::string message) {
        result.what = command_line::action::error;
        result.message = std::move(message);
        return result;
    };
    // The environment first, so that the command line overrides it.
    if (environment) {
        // The API key may be given as itself only here (a container's secret), never as a
        // command-line value; a key file, in the environment or on the command line, wins.
        if (auto key = environment("COROPUSH_API_KEY")) {
            if (key->empty())
                return error("COROPUSH_API_KEY is set but empty");
            result.options.api_key = std::move(*key);
        }
        for (auto const& spec : options_table()) {
            auto const name = environment_name(spec.name);
            auto const value = environment(name);
            if (!value)
                continue;
            if (auto const bad = spec.set(result.options, *value))
                return error("bad value '" + *value + "' for " + name + ": " + *bad);
        }
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        auto arg = args[i];
        if (arg == "--help" || arg == "-h") {
            result.what = command_line::action::help;
            return result;
        }
        if (arg == "--version") {
            result.what = command_line::action::version;
            return result;
        }
        if (!arg.starts_with("--"))
            return error("unexpected argument '" + std::string(arg) + "'");
        arg.remove_prefix(2);
        std::optional<std::string_view> value;
        if (auto const eq = arg.find('='); eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto const& table = options_table();
        auto const spec = std::find_if(table.begin(), table.end(), [&](auto const& s) { return s.name == arg; });
        if (spec == table.end())
            return error("unknown option '--" + std::string(arg) + "'");
        if (!value && spec->metavar.empty())
            value = "on";  // a flag: --deflate alone turns it on
        if (!value) {
            if (i + 1 >= args.size())
                return error("option '--" + std::string(arg) + "' needs a value (" + std::string(spec->metavar) + ")");
            value = args[++i];
        }
        if (auto const bad = spec->set(result.options, *value))
            return error("bad value '" + std::string(*value) + "' for --" + std::string(arg) + ": " + *bad);
    }
    if (result.options.tls_cert_file.empty() != result.options.tls_key_file.empty())
        return error("--tls-cert and --tls-key go together: give both, or neither for plain HTTP");
    if (auto const bad = check_auth_options(result.options, environment))
        return error(*bad);
    if (result.options.deflate_context_takeover && !result.options.deflate)
        return error("--deflate-context-takeover applies to --deflate, which is not given");
    return result;
}

command_line parse_command_line(int argc, char const* const* argv)
{
    std::vector<std::string_view> args;
    for (int i = 1; i < argc; ++i)
        args.emplace_back(argv[i]);
    return parse_command_line(args, [](std::string const& name) -> std::optional<std::string> {
        char const* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read before any thread starts
        return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
    });
}

std::string help_text()
{
    server_options const defaults;
    std::ostringstream out;
    out << "usage: coropush [OPTION...]\n\n"
           "A C++20 coroutine WebSocket push server. Serves the page in the web root, /healthz,\n"
           "/readyz, /metrics, and WebSocket sessions on / and /ws (plain-text demo, or typed JSON\n"
           "with the subprotocol coropush.v1).\n\n"
           "Options (--name VALUE or --name=VALUE; a flag such as --deflate alone, or --deflate=off;\n"
           "durations like 250ms, 10s, 5m; sizes like 64k, 16m).\n"
           "Each can also be set in the environment as COROPUSH_NAME (COROPUSH_BACKPLANE for\n"
           "--backplane); the command line wins:\n";
    for (auto const& spec : options_table()) {
        std::string head = "  --" + std::string(spec.name);
        if (!spec.metavar.empty())
            head += " " + std::string(spec.metavar);
        out << head;
        out << std::string(head.size() < 34 ? 34 - head.size() : 1, ' ') << spec.help << " [" << spec.show(defaults)
            << "]\n";
    }
    out << "  --help                          show this text\n"
           "  --version                       show the version\n\n"
           "Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a runtime error, 2 on a bad\n"
           "command line. A second signal during shutdown exits at once with status 1.\n";
    return out.str();
}

std::vector<std::string> option_names()
{
    std::vector<std::string> names;
    for (auto const& spec : options_table())
        names.push_back("--" + std::string(spec.name));
    return names;
}

}  // namespace coropush
