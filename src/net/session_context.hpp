// What the transport's session coroutines share and use: the settings and counters, the
// connection table, the deadlines, the TLS certificate, the connection slots, the endpoints and
// routes the features registered, and readiness. The composition root (server/server_state.hpp)
// fills it in; the transport includes no feature and nothing of server/. Sessions hold a shared_ptr to it, so nothing a
// session uses can be destroyed while the session runs.
#pragma once

#include "auth/connection_cap.hpp"
#include "config/options.hpp"
#include "core/endpoints.hpp"
#include "core/message_handler.hpp"
#include "core/metrics.hpp"
#include "net/connection.hpp"
#include "net/deadline_scheduler.hpp"
#include "net/http_routes.hpp"
#include "net/outbound_queue.hpp"
#include "net/registry.hpp"
#include "net/server_shards.hpp"
#include "net/socket_closer.hpp"
#include "net/tls_credentials.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace coropush::net {

class session_context {
public:
    session_context(boost::asio::io_context& io_context, server_options opts, std::function<readiness()> ready);
    virtual ~session_context();
    session_context(session_context const&) = delete;
    session_context& operator=(session_context const&) = delete;

    server_options const options;
    metrics stats;
    // Where connections run: a shard per io thread (see server_shards.hpp); the deadlines and the
    // topic hub's fan-out use the same shards.
    server_shards shards;
    connection_registry registry;
    std::atomic<bool> draining{false};
    http_context const http;
    // The certificate every connection's TLS handshake presents; none without --tls-cert (plain
    // HTTP and ws://).
    std::unique_ptr<tls_credentials> const tls;

    boost::asio::io_context& io;
    boost::asio::strand<boost::asio::io_context::executor_type> control;  // acceptor, shutdown
    boost::asio::ip::tcp::acceptor acceptor;
    // The deadlines of every session (pings, close time limits, scheduled pushes): one timer per
    // io thread, not one per session, on the same shards as the sessions.
    deadline_scheduler deadlines;
    // Closes the sockets of ended WebSocket sessions, off the io threads, when a core is idle
    // (socket_closer.hpp says why); stopped, with what waits closed, when the context goes.
    socket_closer closer;

    // Where the server answers, and who answers: the WebSocket endpoints and HTTP routes the
    // composition root registered (server/endpoints.cpp). Filled before the server starts; read-only
    // after that, from any thread.
    endpoints routes;

    std::uint64_t next_connection_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }
    queue_limits outbound_limits() const noexcept;
    session_timing timing() const noexcept;

private:
    void release_websocket() noexcept;
    void release_http() noexcept;

public:
    // A place counted against one of the server's limits, given back by `Release` when the slot
    // is destroyed (or released early). Moves; never copied.
    template <void (session_context::*Release)() noexcept>
    class counted_slot {
    public:
        explicit counted_slot(session_context* s)
            : state_(s)
        {
        }
        counted_slot(counted_slot&& other) noexcept
            : state_(std::exchange(other.state_, nullptr))
        {
        }
        counted_slot(counted_slot const&) = delete;
        counted_slot& operator=(counted_slot const&) = delete;
        counted_slot& operator=(counted_slot&&) = delete;
        ~counted_slot() { release(); }
        void release() noexcept
        {
            if (auto* state = std::exchange(state_, nullptr))
                (state->*Release)();
        }

    private:
        session_context* state_;
    };

    // A WebSocket session slot, counted against --max-connections.
    using websocket_slot = counted_slot<&session_context::release_websocket>;
    std::optional<websocket_slot> try_reserve_websocket();
    std::size_t websocket_sessions() const noexcept { return websocket_count_.load(std::memory_order_relaxed); }

    // A WebSocket session's place under --max-connections-per-ip, held for the session's lifetime.
    class address_slot {
    public:
        address_slot(session_context* s, std::string address)
            : state_(s),
              address_(std::move(address))
        {
        }
        address_slot(address_slot&& other) noexcept
            : state_(std::exchange(other.state_, nullptr)),
              address_(std::move(other.address_))
        {
        }
        address_slot(address_slot const&) = delete;
        address_slot& operator=(address_slot const&) = delete;
        address_slot& operator=(address_slot&&) = delete;
        ~address_slot();

    private:
        session_context* state_;
        std::string address_;
    };
    // Nothing when `address` already has --max-connections-per-ip sessions open (any thread).
    // With no cap, every session gets an empty slot and nothing is counted or locked.
    std::optional<address_slot> try_reserve_address(std::string address);

    // A connection's place among those not yet upgraded (in the TLS handshake or at HTTP
    // requests), counted against --max-http-connections: taken by the listener as it accepts,
    // released once the connection is a WebSocket session or ends (any thread). While they are
    // all taken, the listener stops accepting (new clients wait in the kernel's backlog): what
    // the HTTP part may hold is bounded by the cap times its header and body limits.
    using http_slot = counted_slot<&session_context::release_http>;
    http_slot take_http_slot() noexcept;
    bool http_slots_full() const noexcept;
    std::size_t http_connections() const noexcept { return http_count_.load(std::memory_order_relaxed); }

    // The admin endpoint's action: close (1012) or drop every WebSocket session; returns how many.
    std::size_t disconnect_all(bool drop) const;

    bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }

protected:
    // The last WebSocket session has ended while draining: what a graceful shutdown waits for.
    virtual void last_session_ended() = 0;
    // Marks the server stopped; false if it already was.
    bool mark_stopped() noexcept { return !stopped_.exchange(true); }

private:
    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<std::size_t> websocket_count_{0};
    std::atomic<std::size_t> http_count_{0};
    std::atomic<bool> stopped_{false};
    std::mutex address_mutex_;
    auth::connection_cap sessions_per_address_;  // guarded by address_mutex_
};

}  // namespace coropush::net
