// The transport's shared state: the web root, the deadline shards, the connection slots.
#include "net/session_context.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>

#include <filesystem>
#include <stdexcept>

#ifndef COROPUSH_DEFAULT_WEB_ROOT
#define COROPUSH_DEFAULT_WEB_ROOT "web"
#endif

namespace coropush::net {
namespace asio = boost::asio;

namespace {

std::filesystem::path canonical_web_root(std::string const& configured)
{
    std::filesystem::path const root = configured.empty() ? COROPUSH_DEFAULT_WEB_ROOT : configured;
    std::error_code ec;
    auto resolved = std::filesystem::canonical(root, ec);
    if (ec || !std::filesystem::is_directory(resolved))
        throw std::runtime_error("web root " + root.string() + " is not a directory");
    return resolved;
}

}  // namespace

session_context::session_context(asio::io_context& io_context, server_options opts, std::function<readiness()> ready)
    : options(std::move(opts)),
      shards(io_context, options.threads),
      http{canonical_web_root(options.web_root), stats, std::move(ready), options.admin_token,
           [this](bool drop) { return disconnect_all(drop); }},
      tls(options.tls_cert_file.empty()
              ? nullptr
              : std::make_unique<tls_credentials>(options.tls_cert_file, options.tls_key_file)),
      io(io_context),
      control(asio::make_strand(io_context)),
      acceptor(control),
      deadlines(shards.executors()),
      closer(stats.sockets_closing),
      sessions_per_address_(options.max_connections_per_ip)
{
    registry.on_remove([this](std::size_t) { stats.tcp_connections_open.fetch_sub(1, std::memory_order_relaxed); });
}

session_context::~session_context() = default;

queue_limits session_context::outbound_limits() const noexcept
{
    return {options.max_queue_messages, options.max_queue_bytes, options.on_overflow};
}

session_timing session_context::timing() const noexcept
{
    return {options.ping_interval, options.ping_timeout, options.close_timeout};
}

std::optional<session_context::websocket_slot> session_context::try_reserve_websocket()
{
    auto const before = websocket_count_.fetch_add(1, std::memory_order_acq_rel);
    if (before >= options.max_connections) {
        release_websocket();
        return std::nullopt;
    }
    return websocket_slot(this);
}

void session_context::release_websocket() noexcept
{
    auto const before = websocket_count_.fetch_sub(1, std::memory_order_acq_rel);
    if (before == 1 && draining.load(std::memory_order_acquire))
        last_session_ended();
}

session_context::http_slot session_context::take_http_slot() noexcept
{
    http_count_.fetch_add(1, std::memory_order_relaxed);
    return http_slot(this);
}

bool session_context::http_slots_full() const noexcept
{
    return http_count_.load(std::memory_order_relaxed) >= options.max_http_connections;
}

void session_context::release_http() noexcept
{
    http_count_.fetch_sub(1, std::memory_order_relaxed);
}

std::optional<session_context::address_slot> session_context::try_reserve_address(std::string address)
{
    if (options.max_connections_per_ip == 0)
        return address_slot(nullptr, {});
    // Sessions of one address may run on every io thread, so the count is shared under a lock,
    // held for one table lookup per upgrade and per session end.
    std::lock_guard lock(address_mutex_);
    if (!sessions_per_address_.try_open(address))
        return std::nullopt;
    return address_slot(this, std::move(address));
}

session_context::address_slot::~address_slot()
{
    if (!state_)
        return;
    std::lock_guard lock(state_->address_mutex_);
    state_->sessions_per_address_.close(address_);
}

std::size_t session_context::disconnect_all(bool drop) const
{
    auto const sessions = websocket_sessions();
    log_info(0, "admin: ", drop ? "dropping " : "closing ", sessions, " WebSocket session(s)");
    for (auto const& c : registry.snapshot()) {
        if (drop)
            c->abort_websocket("dropped by an administrator");
        else
            c->close_websocket(1012, "service restart", options.shutdown_grace);
    }
    return sessions;
}

}  // namespace coropush::net
