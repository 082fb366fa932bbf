// The coropush server: one port serving the web page, /healthz, /readyz, /metrics and WebSocket
// sessions. This header is all an executable (or a test) needs; the machinery stays in net/ (the
// transport) and in server_state.hpp (the features, assembled).
#pragma once

#include "config/options.hpp"
#include "core/endpoints.hpp"
#include "core/metrics.hpp"
#include "pubsub/backplane.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace coropush {

class server_state;

// The warning start() logs when the server listens beyond loopback with --auth off (anyone who can
// reach the port may read and publish every topic and run jobs), or nothing.
std::optional<std::string> unauthenticated_exposure(server_options const& options);

class server {
public:
    // Binds and listens (throws std::system_error when the address is unusable). Nothing is
    // accepted until start(); run the io_context to serve.
    server(boost::asio::io_context& io, server_options options, std::unique_ptr<pubsub::backplane> link = nullptr);
    ~server();
    server(server const&) = delete;
    server& operator=(server const&) = delete;

    // An application's own WebSocket endpoint or HTTP route, beside the built-in ones (see
    // core/endpoints.hpp and CONTRIBUTING.md, recipe 3). Before start() only; throws
    // std::invalid_argument for one that clashes with an endpoint already there, and
    // std::logic_error after start().
    void add(websocket_endpoint endpoint);
    void add(http_route route);

    void start();

    // The bound port (useful with port 0) and "address:port".
    std::uint16_t port() const;
    std::string endpoint() const;

    // Graceful shutdown, safe from any thread: /readyz turns 503, new upgrades get 503, every
    // session flushes its queue and closes with 1001; then (or after the grace period, dropping
    // the rest) the server stops and calls `on_stopped`. The io_context then runs out of work.
    void shutdown(std::function<void()> on_stopped = {});
    // Drop everything now.
    void stop_now();
    // Closes every session authenticated as `user` (close 4000, after a flush), on this node and,
    // with a backplane, on every other node; returns how many on this node. Safe from any
    // thread: what the application's backend calls when a user logs out.
    std::size_t disconnect_user(std::string_view user);

    // Whether the port speaks TLS (--tls-cert and --tls-key).
    bool tls() const;
    // Reads --tls-cert and --tls-key again (what SIGHUP does): connections accepted from now on
    // present the new certificate, open sessions keep theirs. Safe from any thread; the files are
    // read on the calling one. Returns why it failed (the old certificate stays in use), or
    // nothing; logs either way. Without TLS there is nothing to reload: nothing is returned.
    std::optional<std::string> reload_tls();

    coropush::metrics const& metrics() const;
    server_options const& options() const;
    std::size_t websocket_sessions() const;

private:
    std::shared_ptr<server_state> state_;
    std::uint16_t port_ = 0;
    bool started_ = false;
    std::string endpoint_;
};

}  // namespace coropush
