// The state of one session, and the face the rest of the server sees of it.
//
// Ownership: the part of the session that holds the socket (the HTTP part, then the WebSocket
// session object that the reader and the writer share) attaches itself as this connection's
// `session_io`; this object owns the queue, the scheduled pushes and the deadlines, and lives in a
// shared_ptr, so the topic hub, a job or the registry can keep a handle that outlives the session:
// pushing to a connection whose session has ended is a harmless no-op.
//
// Coroutines: while idle, a WebSocket session is its reader and nothing else. The writer is
// started when there is something to write (a message, a ping, the close frame) and returns once
// it has written all of it. Deadlines (the next ping, a close's time limits, a token's expiry,
// scheduled pushes) are entries in the server's deadline_scheduler, not timers of this object.
//
// Threading: everything here runs on the connection's executor, its shard (a strand shared with
// the other connections of one io thread; see server_shards.hpp), except the methods marked "any
// thread", which dispatch to it first. Fan-out reaches it on the shard already (push_here).
#pragma once

#include "core/metrics.hpp"
#include "core/outbound.hpp"
#include "net/deadline_scheduler.hpp"
#include "net/outbound_queue.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coropush::net {

// What the connection asks of the part of the session that holds the socket.
class session_io {
public:
    virtual ~session_io() = default;
    // There is something to write and no writer is running: start one (WebSocket only).
    virtual void start_writer() = 0;
    // Drop the TCP connection now: every pending operation of the session fails.
    virtual void abort() = 0;
    // A message for a session with nothing queued or being written, and no writer: sent without
    // starting a writer, when the session can (a WebSocket session without permessage-deflate:
    // see websocket_session::send_now). Over plain TCP a push is written now; a reply, from
    // inside the reader's handler, waits in the batch for the reader to send it (`whole` either
    // way: it is taken care of). What the socket does not take (`partly`) is sent by a writer,
    // which the connection then starts. Over TLS a push cannot be written without waiting: its
    // write starts now and completes later (`writing`); until then it counts as the writer, and
    // the session calls writer_done, or starts a writer, when it is out.
    enum class sent_now { no, whole, partly, writing };
    // The payload is copied if it is taken: the caller may free it once this returns.
    virtual sent_now send_now(std::string_view /*payload*/, bool /*binary*/) { return sent_now::no; }
};

// The keep-alive and closing time limits of a WebSocket session (see server_options).
struct session_timing {
    std::chrono::steady_clock::duration ping_interval{};  // zero: no pings
    std::chrono::steady_clock::duration ping_timeout{};
    std::chrono::steady_clock::duration close_timeout{};
};

class connection final : public outbox,
                         public push_target,
                         public deadline_owner,
                         public std::enable_shared_from_this<connection> {
public:
    using clock = std::chrono::steady_clock;

    // `executor` is shard number `shard` of the server's: the deadlines go to that shard too.
    connection(boost::asio::any_io_executor executor, std::uint64_t id, std::size_t shard, queue_limits limits,
               session_timing timing, deadline_scheduler& deadlines, metrics& stats);
    ~connection() override;
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    boost::asio::any_io_executor const& get_executor() const noexcept override { return executor_; }

    // --- outbox and push_target -------------------------------------------------------------
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_message message) override;  // any thread
    std::size_t shard() const noexcept override { return shard_; }
    bool accepting() const noexcept override { return accepting_.load(std::memory_order_acquire); }  // any thread
    void push_here(outbound_message message) override { send(std::move(message)); }
    void send(outbound_message message) override;
    void send_copy(std::string_view payload, bool binary) override;
    void send_after(clock::duration delay, outbound_message message) override;
    void close(std::uint16_t code, std::string_view reason) override;
    void close(std::uint16_t code, std::string_view reason, std::optional<clock::duration> flush_budget);
    void close_at(clock::time_point when, std::uint16_t code, std::string_view reason) override;
    std::shared_ptr<push_target> target() override { return shared_from_this(); }

    // --- ending a session from outside it (any thread) -----------------------------------------
    // Two verbs end a session. `close`: flush what is queued (within `flush_budget`; unset: the
    // close timeout), then the closing handshake with this code: outbox::close on the shard, and
    // close_websocket from any thread (HTTP connections are left to finish their request).
    // `abort`: drop the TCP connection now; every pending operation of the session fails. When the
    // reader returns, the session has `ended` (session_ended below), however it was ended.
    void close_websocket(std::uint16_t code, std::string reason) override
    {
        close_websocket(code, std::move(reason), {});
    }
    void close_websocket(std::uint16_t code, std::string reason, std::optional<clock::duration> flush_budget);
    void abort_websocket(std::string reason);
    void abort(std::string reason);

    // --- for the session's own coroutines ----------------------------------------------------
    // The part of the session that holds the socket, until the returned guard is destroyed.
    class io_guard;
    [[nodiscard]] io_guard attach(session_io& io);

    // The HTTP part accepted the upgrade (the session counts against --max-connections from now
    // on): a close or an abort from outside that comes before the handshake is done waits for it.
    void upgrade_accepted() noexcept { upgrading_ = true; }
    // The WebSocket handshake is done: from now on the keep-alive pings and the deadline apply,
    // and an end asked for during the handshake is carried out.
    void websocket_opened();

    // The reader has returned: the session has ended. Nothing more is queued or written, and no
    // deadline fires.
    void session_ended();
    bool ended() const noexcept { return ended_; }

    // The writer's side. It runs while has_work() and tells writer_done() when it returns (after
    // a write error too: then no writer is started again). Having written everything, it starts
    // the delays of the scheduled pushes that were waiting for that (send_after).
    bool writer_running() const noexcept { return writer_running_; }
    bool has_queued() const noexcept { return !queue_.empty(); }
    std::size_t queued_messages() const noexcept { return queue_.messages(); }
    // The message to write next, and that it has been written.
    outbound_message next_message() { return queue_.front(); }
    void message_written();
    bool take_ping_request() noexcept { return std::exchange(ping_requested_, false); }
    void writer_done(bool failed);
    // What a writer would find to do now: queued messages, a ping, the close frame. For a write
    // that was not a writer's (send_now's `writing`), when it is out: work left means a writer
    // takes over; none, writer_done.
    bool writer_has_work() const noexcept
    {
        return !ended_ && !writer_failed_ && (!queue_.empty() || ping_requested_ || (close_ && !close_frame_started_));
    }
    // The session holds bytes that only a writer can send (the rest of what the socket did not
    // take): starts one, unless one is running or cannot run.
    void writer_needed() { wake_writer(); }

    // A close has two phases with a time limit each: flushing what is queued (`flush_budget`;
    // unset: the session's close timeout), then the closing handshake (the close timeout), timed
    // from the moment the close frame starts out.
    struct close_request {
        std::uint16_t code;
        std::string reason;
        std::optional<clock::duration> flush_budget;
    };
    std::optional<close_request> const& pending_close() const noexcept { return close_; }
    // The writer has flushed the queue and is sending the close frame: the second phase begins.
    void close_frame_started();
    bool close_frame_sent() const noexcept { return close_frame_started_; }
    // The peer's close frame has arrived: Beast answers it and then waits for the connection to
    // end (over TLS, for the peer's close_notify), which it does not time for a close the peer
    // began. That wait gets the close timeout; nothing more is written.
    void peer_closing();

    // Keep-alive bookkeeping: anything heard from the peer (a message, a pong) counts, and a ping
    // goes out one ping interval after the last of it.
    void note_activity() noexcept { last_heard_ = clock::now(); }

    // deadline_owner: one of the times this connection asked the scheduler for has come.
    void deadline_reached(clock::time_point when) override;

    // Why the session ended, for the "closed" log line: the first reason recorded wins.
    void record_end(std::string reason);
    std::string const& end_reason() const noexcept { return end_reason_; }

private:
    void enqueue(outbound_message message);
    void queue(outbound_message message);  // enqueue's slow path: into the queue, for the writer
    // The fast path of enqueue: the message leaves at once (session_io::send_now).
    bool sent_at_once(std::string_view payload, bool binary);
    // Keeps the server-wide queued_bytes gauge in step with this queue.
    void count_queue_change(std::size_t bytes_before);
    void overflow();
    void wake_writer();
    void release_due_pushes(clock::time_point now);
    void close_for_deadline();
    void abort_here(std::string reason);  // abort, on the shard
    // What is due now (pushes, pings, a close's limits, the deadline), then the next time to look.
    void check_deadlines();
    clock::time_point next_deadline() const noexcept;
    // Asks the scheduler for next_deadline(), unless an earlier entry already stands.
    void arm_deadline();

    boost::asio::any_io_executor executor_;
    std::uint64_t id_;
    std::size_t shard_;
    metrics& stats_;
    deadline_scheduler& deadlines_;
    session_timing timing_;
    session_io* io_ = nullptr;

    outbound_queue queue_;
    std::multimap<clock::time_point, outbound_message> scheduled_;
    // send_after's messages whose delay has not started: it starts when the writer has written
    // what was queued before them (writer_done), so the interval the client sees is the delay.
    std::vector<std::pair<clock::duration, outbound_message>> after_queue_;
    std::optional<close_request> close_;
    // close_websocket or abort_websocket while upgrading_: the session is counted (the admin
    // endpoint's answer includes it) but its handshake is under way, which a writer or an abort
    // must not cut into. websocket_opened carries it out.
    struct end_when_open {
        bool drop;
        close_request close;
    };
    std::unique_ptr<end_when_open> end_when_open_;
    struct deadline_close {
        clock::time_point when = clock::time_point::max();
        std::uint16_t code = 0;
        std::string_view reason;  // static text (see outbox::close_at)
    };
    deadline_close deadline_;

    std::string end_reason_;
    clock::time_point last_heard_ = clock::now();
    clock::time_point armed_ = clock::time_point::max();  // the earliest entry held by the scheduler
    // While a ping is unanswered: when it must be answered by, and the last word heard before it.
    clock::time_point ping_answer_by_ = clock::time_point::max();
    clock::time_point heard_before_ping_;
    clock::time_point close_phase_ends_ = clock::time_point::max();  // the flush's, then the handshake's
    bool upgrading_ = false;
    bool websocket_ = false;
    bool ended_ = false;
    bool ping_requested_ = false;
    bool close_frame_started_ = false;
    bool writer_running_ = false;
    bool writer_failed_ = false;
    // Read from other threads (push, the hub): false once a close is requested or the session is over.
    std::atomic<bool> accepting_{true};
};

class connection::io_guard {
public:
    explicit io_guard(connection& c)
        : connection_(&c)
    {
    }
    io_guard(io_guard const&) = delete;
    io_guard& operator=(io_guard const&) = delete;
    ~io_guard() { connection_->io_ = nullptr; }

private:
    connection* connection_;
};

}  // namespace coropush::net
