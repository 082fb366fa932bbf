// The state one session's coroutines share (reader, writer, pusher, watchdog), and the face the
// rest of the server sees of that session.
//
// Ownership: the session coroutine's frame owns the socket; this object owns what the coroutines
// share and lives in a shared_ptr, so the topic hub, a job or the registry can keep a handle that
// outlives the session: pushing to a connection whose session has ended is a harmless no-op.
//
// Threading: everything here runs on the connection's strand, except the methods marked "any
// thread", which dispatch to it first.
#pragma once

#include "core/frame.hpp"
#include "core/metrics.hpp"
#include "net/outbound_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

namespace coropush::net {

class connection final : public outbox, public push_target, public std::enable_shared_from_this<connection> {
public:
    using clock = std::chrono::steady_clock;

    connection(boost::asio::any_io_executor strand, std::uint64_t id, queue_limits limits, metrics& stats);
    ~connection() override;
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    boost::asio::any_io_executor const& get_executor() const noexcept { return strand_; }

    // --- outbox and push_target -------------------------------------------------------------
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_frame frame) override;  // any thread
    void send(outbound_frame frame) override;
    void send_after(clock::duration delay, outbound_frame frame) override;
    void close(std::uint16_t code, std::string_view reason) override;
    void close(std::uint16_t code, std::string_view reason, std::optional<clock::duration> flush_budget);
    void close_at(clock::time_point when, std::uint16_t code, std::string_view reason) override;
    void disconnect(std::uint16_t code, std::string reason) override;  // any thread
    std::shared_ptr<push_target> target() override { return shared_from_this(); }

    // --- control from outside the session (any thread) ----------------------------------------
    // Graceful: flush what is queued within `flush_budget`, then close with 1001 (server
    // shutdown). HTTP connections are left to finish their current request.
    void go_away(clock::duration flush_budget) { close_websocket(1001, "server shutting down", flush_budget); }
    // The same with another code; and dropping the TCP connection of a WebSocket session only.
    void close_websocket(std::uint16_t code, std::string reason, clock::duration flush_budget);
    void abort_websocket(std::string reason);
    // Immediate: drop the TCP connection; every pending operation of the session fails.
    void abort(std::string reason);

    // --- for the session's own coroutines ----------------------------------------------------
    // How the session drops the socket when aborted; set once the socket exists, and cleared
    // (by the returned guard) before the socket is destroyed.
    class abort_hook_guard;
    [[nodiscard]] abort_hook_guard set_abort_hook(std::function<void()> hook);

    void websocket_opened() noexcept { websocket_ = true; }

    // The reader has ended: the other coroutines finish their current step and return.
    void stop();
    bool stopping() const noexcept { return stopping_; }

    bool has_queued() const noexcept { return !queue_.empty(); }
    std::size_t queued_frames() const noexcept { return queue_.messages(); }
    // The writer's side of the queue: the frame to write next, and that it has been written.
    outbound_frame next_frame() { return queue_.front(); }
    void frame_written();

    // A close has two phases with a budget each: flushing what is queued (`flush_budget`; unset:
    // the session's --close-timeout), then the closing handshake (--close-timeout), timed from
    // the moment the close frame starts out.
    struct close_request {
        std::uint16_t code;
        std::string reason;
        std::optional<clock::duration> flush_budget;
    };
    std::optional<close_request> const& pending_close() const noexcept { return close_; }
    // The writer has flushed the queue and is sending the close frame: the second phase begins.
    void close_frame_started();
    bool close_frame_sent() const noexcept { return close_frame_started_; }

    // Keep-alive bookkeeping: anything heard from the peer (a message, a pong) counts, and the
    // watchdog pings one --ping-interval after the last of it.
    void note_activity() noexcept { last_heard_ = clock::now(); }
    clock::time_point last_heard() const noexcept { return last_heard_; }
    void request_ping();
    bool take_ping_request() noexcept { return std::exchange(ping_requested_, false); }

    // The waits of the session's coroutines, each on a steady_timer used as a signal: the timer is
    // cancelled to wake the waiter early (the error that then completes the wait is expected).
    using timer_wait = boost::asio::awaitable<std::tuple<boost::system::error_code>>;
    // Until the writer has something to do (a frame, a ping, a close) or the session stops.
    timer_wait wait_for_writer_work();
    // Until the earliest scheduled push is due (or something earlier is scheduled).
    timer_wait wait_for_next_push();
    // Move the scheduled pushes that are due into the outbound queue.
    void release_due_pushes();
    // Suspend for `d` (clock::duration::max(): indefinitely) or until `deadline`, or less if the
    // session stops or a close is requested.
    timer_wait watchdog_sleep(clock::duration d);
    timer_wait watchdog_sleep_until(clock::time_point deadline);

    // The session's deadline (close_at), which the watchdog honours: a plain time_point, not a
    // timer of its own, so a connection costs no more while it waits for a token.
    clock::time_point deadline() const noexcept { return deadline_.when; }
    bool deadline_passed() const noexcept { return clock::now() >= deadline_.when; }
    // Requests the close the deadline called for.
    void close_for_deadline();

    // Why the session ended, for the "closed" log line: the first reason recorded wins.
    void record_end(std::string reason);
    std::string const& end_reason() const noexcept { return end_reason_; }

private:
    void enqueue(outbound_frame frame);
    // Keeps the server-wide queued_bytes gauge in step with this queue.
    void count_queue_change(std::size_t bytes_before);
    void overflow();
    void wake_writer() { writer_wake_.cancel(); }

    boost::asio::any_io_executor strand_;
    std::uint64_t id_;
    metrics& stats_;

    outbound_queue queue_;
    std::multimap<clock::time_point, outbound_frame> scheduled_;
    std::optional<close_request> close_;
    struct deadline_close {
        clock::time_point when = clock::time_point::max();
        std::uint16_t code = 0;
        std::string_view reason;  // static text (see outbox::close_at)
    };
    deadline_close deadline_;

    boost::asio::steady_timer writer_wake_;
    boost::asio::steady_timer push_timer_;
    boost::asio::steady_timer watchdog_timer_;

    std::function<void()> abort_hook_;
    std::string end_reason_;
    clock::time_point last_heard_ = clock::now();
    bool websocket_ = false;
    bool stopping_ = false;
    bool ping_requested_ = false;
    bool close_frame_started_ = false;
    // Read from other threads by push(): false once a close is requested or the session is over.
    std::atomic<bool> accepting_{true};
};

class connection::abort_hook_guard {
public:
    explicit abort_hook_guard(connection& c)
        : connection_(&c)
    {
    }
    abort_hook_guard(abort_hook_guard const&) = delete;
    abort_hook_guard& operator=(abort_hook_guard const&) = delete;
    ~abort_hook_guard() { connection_->abort_hook_ = nullptr; }

private:
    connection* connection_;
};

}  // namespace coropush::net
