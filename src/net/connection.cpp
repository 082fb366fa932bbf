// The shared state of one session: queueing, scheduling, closing, keep-alive and deadlines.
#include "net/connection.hpp"

#include "core/log.hpp"

#include <boost/asio/dispatch.hpp>

#include <algorithm>

namespace coropush::net {
namespace asio = boost::asio;

connection::connection(asio::any_io_executor executor, std::uint64_t id, std::size_t shard, queue_limits limits,
                       session_timing timing, deadline_scheduler& deadlines, metrics& stats)
    : executor_(std::move(executor)),
      id_(id),
      shard_(shard),
      stats_(stats),
      deadlines_(deadlines),
      timing_(timing),
      queue_(limits)
{
}

connection::~connection()
{
    stats_.queued_bytes.fetch_sub(static_cast<std::int64_t>(queue_.bytes()), std::memory_order_relaxed);
}

void connection::count_queue_change(std::size_t bytes_before)
{
    auto const delta = static_cast<std::int64_t>(queue_.bytes()) - static_cast<std::int64_t>(bytes_before);
    stats_.queued_bytes.fetch_add(delta, std::memory_order_relaxed);
}

void connection::message_written()
{
    auto const before = queue_.bytes();
    queue_.pop();
    count_queue_change(before);
}

bool connection::push(outbound_message message)
{
    // A connection being closed takes nothing more (and a job store forgets such a watcher).
    // Racing a close that begins right now is harmless: send() drops the message.
    if (!accepting())
        return false;
    // Runs inline when already on this connection's shard, otherwise queued to it: the queue is
    // only ever touched from there. (Fan-out does not come this way: see topic_hub.)
    asio::dispatch(executor_, [self = shared_from_this(), message = std::move(message)]() mutable {
        self->send(std::move(message));
    });
    return true;
}

void connection::send(outbound_message message)
{
    if (ended_ || close_)
        return;  // closing: nothing more goes out
    enqueue(std::move(message));
}

void connection::send_copy(std::string_view payload, bool binary)
{
    if (ended_ || close_)
        return;
    if (queue_.empty() && sent_at_once(payload, binary))
        return;
    queue(outbound_message{make_payload(std::string(payload)), binary, 0});
}

void connection::enqueue(outbound_message message)
{
    if (queue_.empty() && message.payload && sent_at_once(*message.payload, message.binary))
        return;
    queue(std::move(message));
}

void connection::queue(outbound_message message)
{
    auto const before = queue_.bytes();
    auto const result = queue_.push(std::move(message));
    count_queue_change(before);
    switch (result) {
    case outbound_queue::push_result::queued:
        wake_writer();
        break;
    case outbound_queue::push_result::coalesced:
        stats_.coalesced_updates.fetch_add(1, std::memory_order_relaxed);
        break;
    case outbound_queue::push_result::dropped:
        stats_.queue_drops.fetch_add(1, std::memory_order_relaxed);
        break;
    case outbound_queue::push_result::overflow:
        overflow();
        break;
    }
}

bool connection::sent_at_once(std::string_view payload, bool binary)
{
    // Nothing may go around what is queued or being written, nor past a ping or a close frame.
    if (writer_running_ || writer_failed_ || ping_requested_ || close_frame_started_ || !websocket_ || !io_)
        return false;
    switch (io_->send_now(payload, binary)) {
    case session_io::sent_now::no:
        return false;
    case session_io::sent_now::whole:
        return true;
    case session_io::sent_now::partly:
        writer_running_ = true;  // it sends the rest first: whatever is queued next waits for it
        io_->start_writer();
        return true;
    case session_io::sent_now::writing:
        writer_running_ = true;  // the write in flight is the writer: whatever is queued next waits for it
        return true;
    }
    return false;
}

void connection::overflow()
{
    // The client reads slower than we push. Its queue is full, so what is waiting is dropped and
    // the client is told why: 1008 (policy violation) with a reason naming the policy.
    stats_.slow_consumer_closes.fetch_add(1, std::memory_order_relaxed);
    log_warn(id_, "slow consumer: outbound queue full (", queue_.messages(), " messages, ", queue_.bytes(),
             " bytes), closing");
    auto const before = queue_.bytes();
    queue_.drop_waiting();
    count_queue_change(before);
    scheduled_.clear();
    after_queue_.clear();
    close(1008, "slow consumer: outbound queue full");
}

void connection::send_after(clock::duration delay, outbound_message message)
{
    if (ended_ || close_)
        return;
    // Scheduled pushes count against the same message limit as the queue, so a client cannot
    // grow the server's memory by asking for many delayed pushes either.
    if (scheduled_.size() + after_queue_.size() + queue_.messages() >= queue_.limits().max_messages) {
        if (queue_.limits().policy == overflow_policy::drop_newest) {
            stats_.queue_drops.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        overflow();
        return;
    }
    if (!queue_.empty() || writer_running_) {
        // Something queued before it has not left yet (the reply this push follows, typically):
        // the delay starts when it has, so the time it waits in the queue does not shorten the
        // interval the client sees.
        after_queue_.emplace_back(delay, std::move(message));
        return;
    }
    scheduled_.emplace(clock::now() + delay, std::move(message));
    arm_deadline();
}

void connection::release_due_pushes(clock::time_point now)
{
    while (!scheduled_.empty() && scheduled_.begin()->first <= now) {
        auto message = std::move(scheduled_.begin()->second);
        scheduled_.erase(scheduled_.begin());
        send(std::move(message));
    }
}

void connection::close(std::uint16_t code, std::string_view reason)
{
    close(code, reason, std::nullopt);
}

void connection::close(std::uint16_t code, std::string_view reason, std::optional<clock::duration> flush_budget)
{
    if (ended_ || close_)
        return;
    close_ = close_request{code, std::string(reason), flush_budget};
    close_phase_ends_ = clock::now() + flush_budget.value_or(timing_.close_timeout);
    accepting_.store(false, std::memory_order_release);
    scheduled_.clear();
    after_queue_.clear();
    wake_writer();
    arm_deadline();
}

void connection::close_at(clock::time_point when, std::uint16_t code, std::string_view reason)
{
    if (ended_ || close_)
        return;  // closing already: the close's own time limits apply
    deadline_ = deadline_close{when, code, reason};
    arm_deadline();
}

void connection::close_for_deadline()
{
    log_info(id_, "deadline passed: ", deadline_.reason);
    close(deadline_.code, deadline_.reason);
}

void connection::close_frame_started()
{
    close_frame_started_ = true;
    close_phase_ends_ = clock::now() + timing_.close_timeout;  // the flush is done: time the handshake
    arm_deadline();
}

void connection::peer_closing()
{
    if (ended_ || close_frame_started_)
        return;                   // our own close frame went first: its handshake is timed already
    close_frame_started_ = true;  // Beast sends the reply; no writer is started from now on
    accepting_.store(false, std::memory_order_release);
    scheduled_.clear();
    after_queue_.clear();
    close_phase_ends_ = clock::now() + timing_.close_timeout;
    arm_deadline();
}

void connection::close_websocket(std::uint16_t code, std::string reason, std::optional<clock::duration> flush_budget)
{
    asio::dispatch(executor_, [self = shared_from_this(), code, reason = std::move(reason), flush_budget]() mutable {
        if (self->websocket_)
            self->close(code, reason, flush_budget);
        else if (self->upgrading_ && !self->end_when_open_)
            self->end_when_open_ = std::make_unique<end_when_open>(
                end_when_open{false, close_request{code, std::move(reason), flush_budget}});
    });
}

void connection::abort_websocket(std::string reason)
{
    asio::dispatch(executor_, [self = shared_from_this(), reason = std::move(reason)]() mutable {
        if (self->websocket_)
            self->abort_here(std::move(reason));
        else if (self->upgrading_ && (!self->end_when_open_ || !self->end_when_open_->drop))
            self->end_when_open_ =
                std::make_unique<end_when_open>(end_when_open{true, close_request{0, std::move(reason), {}}});
    });
}

void connection::abort(std::string reason)
{
    asio::dispatch(executor_, [self = shared_from_this(), reason = std::move(reason)]() mutable {
        self->abort_here(std::move(reason));
    });
}

void connection::abort_here(std::string reason)
{
    record_end(std::move(reason));
    if (io_)
        io_->abort();
}

connection::io_guard connection::attach(session_io& io)
{
    io_ = &io;
    return io_guard(*this);
}

void connection::websocket_opened()
{
    websocket_ = true;
    last_heard_ = clock::now();
    arm_deadline();  // the first ping, and a deadline set before the handshake ended
    if (auto const end = std::move(end_when_open_)) {
        if (end->drop)
            abort_here(std::move(end->close.reason));
        else
            close(end->close.code, end->close.reason, end->close.flush_budget);
    }
}

void connection::session_ended()
{
    ended_ = true;
    accepting_.store(false, std::memory_order_release);
    scheduled_.clear();  // the scheduler's entries for this connection now find nothing to do
    after_queue_.clear();
}

void connection::wake_writer()
{
    if (writer_running_ || writer_failed_ || ended_ || close_frame_started_ || !io_)
        return;
    writer_running_ = true;
    io_->start_writer();
}

void connection::writer_done(bool failed)
{
    writer_running_ = false;
    writer_failed_ = writer_failed_ || failed;
    if (writer_failed_ || ended_ || close_) {
        after_queue_.clear();  // nothing more goes out
        return;
    }
    if (after_queue_.empty())
        return;
    auto const now = clock::now();
    for (auto& [delay, message] : after_queue_)
        scheduled_.emplace(now + delay, std::move(message));
    after_queue_.clear();
    arm_deadline();
}

// --- deadlines -------------------------------------------------------------------------------

void connection::deadline_reached(clock::time_point when)
{
    if (when >= armed_)
        armed_ = clock::time_point::max();  // the earliest entry has come: ask again for the next
    check_deadlines();
}

void connection::check_deadlines()
{
    if (ended_ || !websocket_)
        return;
    auto const now = clock::now();
    release_due_pushes(now);
    if (close_ || close_frame_started_) {
        if (now >= close_phase_ends_) {
            auto const limit = !close_frame_started_ && close_ ? close_->flush_budget.value_or(timing_.close_timeout)
                                                               : timing_.close_timeout;
            abort_here((close_frame_started_ ? "closing handshake not done within " : "queue not flushed within ") +
                       millis(limit));
            return;
        }
    } else if (now >= deadline_.when) {
        close_for_deadline();
    } else if (timing_.ping_interval > clock::duration::zero()) {
        // Notices a peer that has gone silent (dead Wi-Fi, a half-open TCP connection): one ping
        // interval after the last word from it, a ping; after the ping timeout with still nothing
        // heard (not even the pong), the connection is dropped.
        if (ping_answer_by_ != clock::time_point::max() && last_heard_ != heard_before_ping_)
            ping_answer_by_ = clock::time_point::max();  // it spoke: the ping is answered
        if (now >= ping_answer_by_) {
            stats_.ping_timeouts.fetch_add(1, std::memory_order_relaxed);
            abort_here("no answer to a ping within " + millis(timing_.ping_timeout));
            return;
        }
        if (ping_answer_by_ == clock::time_point::max() && now >= last_heard_ + timing_.ping_interval) {
            heard_before_ping_ = last_heard_;
            ping_answer_by_ = now + timing_.ping_timeout;
            ping_requested_ = true;
            wake_writer();
        }
    }
    arm_deadline();
}

connection::clock::time_point connection::next_deadline() const noexcept
{
    if (close_ || close_frame_started_)
        return close_phase_ends_;  // nothing else matters while closing (no pushes are kept)
    auto next = std::min(deadline_.when, scheduled_.empty() ? clock::time_point::max() : scheduled_.begin()->first);
    if (websocket_ && timing_.ping_interval > clock::duration::zero())
        next = std::min(next, ping_answer_by_ != clock::time_point::max() ? ping_answer_by_
                                                                          : last_heard_ + timing_.ping_interval);
    return next;
}

void connection::arm_deadline()
{
    if (ended_)
        return;
    auto const next = next_deadline();
    if (next >= armed_)
        return;  // an entry at least as early stands: it will look again when it comes
    armed_ = next;
    deadlines_.at(next, weak_from_this(), shard_);  // the scheduler's shard is this connection's
}

void connection::record_end(std::string reason)
{
    if (end_reason_.empty())
        end_reason_ = std::move(reason);
}

}  // namespace coropush::net
