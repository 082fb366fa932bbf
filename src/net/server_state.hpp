// What every session of one server shares: settings, counters, the connection table, the
// services (topics, jobs) and the shutdown state. Sessions hold a shared_ptr to it, so nothing a
// session uses can be destroyed while the session runs.
#pragma once

#include "api/server_api.hpp"
#include "auth/connection_cap.hpp"
#include "auth/permissions.hpp"
#include "auth/token_verifier.hpp"
#include "config/options.hpp"
#include "core/metrics.hpp"
#include "jobs/job_manager.hpp"
#include "net/connection.hpp"
#include "net/deadline_scheduler.hpp"
#include "net/http_routes.hpp"
#include "net/outbound_queue.hpp"
#include "net/registry.hpp"
#include "net/tls_credentials.hpp"
#include "pubsub/backplane.hpp"
#include "pubsub/redis_job_store.hpp"
#include "pubsub/topic_hub.hpp"
#include "service/plain_dialect.hpp"
#include "service/service_context.hpp"
#include "service/user_sessions.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace coropush::net {

class server_state : public std::enable_shared_from_this<server_state> {
public:
    server_state(boost::asio::io_context& io_context, server_options opts, std::unique_ptr<backplane> backplane);
    ~server_state();
    server_state(server_state const&) = delete;
    server_state& operator=(server_state const&) = delete;

    server_options const options;
    metrics stats;
    demo_replies const demo;
    std::unique_ptr<backplane> link;
    topic_hub hub;
    std::shared_ptr<job_manager> jobs;
    // With a Redis backplane: where the backend's jobs live, so that every node serves them.
    std::unique_ptr<redis_job_store> job_store;
    connection_registry registry;
    std::atomic<bool> draining{false};
    api::server_api api;
    auth::access_policy const access;
    std::optional<auth::token_verifier> const verifier;  // none under --auth off
    user_sessions users;
    http_context const http;
    service_context const services;
    // The certificate every connection's TLS handshake presents; none without --tls-cert (plain
    // HTTP and ws://).
    std::unique_ptr<tls_credentials> const tls;

    boost::asio::io_context& io;
    boost::asio::strand<boost::asio::io_context::executor_type> control;  // acceptor, shutdown
    boost::asio::ip::tcp::acceptor acceptor;
    // The deadlines of every session (pings, close time limits, scheduled pushes): one timer per
    // io thread, not one per session.
    deadline_scheduler deadlines;

    // The executor a new connection runs on: its own strand, or, when a single thread runs the
    // io_context (--threads 1), the io_context itself: one thread is already an implicit strand,
    // and skipping the strand's queue and lock is the cheapest handler dispatch there is.
    boost::asio::any_io_executor connection_executor();

    std::uint64_t next_connection_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }
    queue_limits outbound_limits() const noexcept;
    session_timing timing() const noexcept;

    // A WebSocket session slot, counted against --max-connections; released by its destructor.
    class websocket_slot {
    public:
        explicit websocket_slot(server_state* s)
            : state_(s)
        {
        }
        websocket_slot(websocket_slot&& other) noexcept
            : state_(std::exchange(other.state_, nullptr))
        {
        }
        websocket_slot(websocket_slot const&) = delete;
        websocket_slot& operator=(websocket_slot const&) = delete;
        websocket_slot& operator=(websocket_slot&&) = delete;
        ~websocket_slot();

    private:
        server_state* state_;
    };
    std::optional<websocket_slot> try_reserve_websocket();
    std::size_t websocket_sessions() const noexcept { return websocket_count_.load(std::memory_order_relaxed); }

    // A WebSocket session's place under --max-connections-per-ip, held for the session's lifetime.
    class address_slot {
    public:
        address_slot(server_state* s, std::string address)
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
        server_state* state_;
        std::string address_;
    };
    // Nothing when `address` already has --max-connections-per-ip sessions open (any thread).
    // With no cap, every session gets an empty slot and nothing is counted or locked.
    std::optional<address_slot> try_reserve_address(std::string address);

    // Graceful shutdown (any thread, idempotent): refuse new sessions, close open ones with 1001
    // after flushing, and once they are gone (or the grace period is over) stop everything.
    void begin_shutdown(std::function<void()> on_stopped);
    // The admin endpoint's action: close (1012) or drop every WebSocket session; returns how many.
    std::size_t disconnect_all(bool drop) const;
    // For the backend: closes every session authenticated as `user` with 4000 ("disconnected by
    // the application"), after each flushes what is queued, on this node (close_sessions_of) and,
    // through the backplane, on every other node. Any thread; returns how many on this node.
    std::size_t disconnect_user(std::string_view user) const;
    // The same on this node only: what another node's disconnect_user asks of this one.
    std::size_t close_sessions_of(std::string_view user) const;

    // Immediate stop (any thread): drop every connection and stop accepting.
    void stop_now();
    bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }

private:
    static api::api_services make_api_services(server_state& server);
    void finish_shutdown();
    void release_websocket();

    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<std::size_t> websocket_count_{0};
    std::atomic<bool> stopped_{false};
    boost::asio::steady_timer grace_timer_;  // on `control`
    std::function<void()> on_stopped_;       // on `control`
    std::mutex address_mutex_;
    auth::connection_cap sessions_per_address_;  // guarded by address_mutex_
};

}  // namespace coropush::net
