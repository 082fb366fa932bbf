// The shared state of one session: queueing, scheduling, closing and the wake-up signals.
#include "net/connection.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace coropush::net {
namespace asio = boost::asio;

namespace {
constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

// A timer used as a signal: the wait ends at `deadline`, or earlier when the timer is cancelled.
// Either way is fine, so the caller ignores the error. (Not a coroutine itself: it hands back the
// timer's own awaitable, which saves a coroutine frame per waiting connection.)
connection::timer_wait wait_on(asio::steady_timer& timer, asio::steady_timer::time_point deadline)
{
    timer.expires_at(deadline);
    return timer.async_wait(nothrow_awaitable);
}
}  // namespace

connection::connection(asio::any_io_executor strand, std::uint64_t id, queue_limits limits, metrics& stats)
    : strand_(std::move(strand)),
      id_(id),
      stats_(stats),
      queue_(limits),
      writer_wake_(strand_),
      push_timer_(strand_),
      watchdog_timer_(strand_)
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

void connection::frame_written()
{
    auto const before = queue_.bytes();
    queue_.pop();
    count_queue_change(before);
}

bool connection::push(outbound_frame frame)
{
    // A connection being closed is not counted as a recipient (publish acks say how many
    // subscribers a message was queued for). Racing a close that begins right now is harmless:
    // send() drops the frame on the strand.
    if (!accepting_.load(std::memory_order_acquire))
        return false;
    // Runs inline when already on this strand (a client publishing to a topic it is subscribed
    // to), otherwise queued to it: the queue is only ever touched from the strand.
    asio::dispatch(strand_,
                   [self = shared_from_this(), frame = std::move(frame)]() mutable { self->send(std::move(frame)); });
    return true;
}

void connection::send(outbound_frame frame)
{
    if (stopping_ || close_)
        return;  // closing: nothing more goes out
    enqueue(std::move(frame));
}

void connection::enqueue(outbound_frame frame)
{
    auto const before = queue_.bytes();
    auto const result = queue_.push(std::move(frame));
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
    close(1008, "slow consumer: outbound queue full");
}

void connection::send_after(clock::duration delay, outbound_frame frame)
{
    if (stopping_ || close_)
        return;
    // Scheduled pushes count against the same message limit as the queue, so a client cannot
    // grow the server's memory by asking for many delayed pushes either.
    if (scheduled_.size() + queue_.messages() >= queue_.limits().max_messages) {
        if (queue_.limits().policy == overflow_policy::drop_newest) {
            stats_.queue_drops.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        overflow();
        return;
    }
    auto const due = clock::now() + delay;
    bool const earliest = scheduled_.empty() || due < scheduled_.begin()->first;
    scheduled_.emplace(due, std::move(frame));
    if (earliest)
        push_timer_.cancel();  // the pusher re-arms for the new earliest due time
}

void connection::release_due_pushes()
{
    auto const now = clock::now();
    while (!scheduled_.empty() && scheduled_.begin()->first <= now) {
        auto frame = std::move(scheduled_.begin()->second);
        scheduled_.erase(scheduled_.begin());
        send(std::move(frame));
    }
}

void connection::close(std::uint16_t code, std::string_view reason)
{
    close(code, reason, std::nullopt);
}

void connection::close(std::uint16_t code, std::string_view reason, std::optional<clock::duration> flush_budget)
{
    if (stopping_ || close_)
        return;
    close_ = close_request{code, std::string(reason), flush_budget};
    accepting_.store(false, std::memory_order_release);
    scheduled_.clear();
    wake_writer();
    watchdog_timer_.cancel();  // the watchdog now times the flush, then the closing handshake
}

void connection::close_at(clock::time_point when, std::uint16_t code, std::string_view reason)
{
    if (stopping_ || close_)
        return;  // closing already: the watchdog is timing the close, and must not be woken early
    deadline_ = deadline_close{when, code, reason};
    watchdog_timer_.cancel();  // the watchdog re-arms for the new deadline
}

void connection::close_for_deadline()
{
    log_info(id_, "deadline passed: ", deadline_.reason);
    close(deadline_.code, deadline_.reason);
}

void connection::disconnect(std::uint16_t code, std::string reason)
{
    asio::dispatch(strand_, [self = shared_from_this(), code, reason = std::move(reason)] {
        if (self->websocket_)
            self->close(code, reason);
    });
}

void connection::close_frame_started()
{
    close_frame_started_ = true;
    watchdog_timer_.cancel();  // the flush is done: the watchdog now times the handshake
}

void connection::close_websocket(std::uint16_t code, std::string reason, clock::duration flush_budget)
{
    asio::dispatch(strand_, [self = shared_from_this(), code, reason = std::move(reason), flush_budget] {
        if (self->websocket_)
            self->close(code, reason, flush_budget);
    });
}

void connection::abort_websocket(std::string reason)
{
    asio::dispatch(strand_, [self = shared_from_this(), reason = std::move(reason)]() mutable {
        if (!self->websocket_)
            return;
        self->record_end(std::move(reason));
        if (self->abort_hook_)
            self->abort_hook_();
    });
}

void connection::abort(std::string reason)
{
    asio::dispatch(strand_, [self = shared_from_this(), reason = std::move(reason)]() mutable {
        self->record_end(std::move(reason));
        if (self->abort_hook_)
            self->abort_hook_();
    });
}

connection::abort_hook_guard connection::set_abort_hook(std::function<void()> hook)
{
    abort_hook_ = std::move(hook);
    return abort_hook_guard(*this);
}

void connection::stop()
{
    stopping_ = true;
    accepting_.store(false, std::memory_order_release);
    writer_wake_.cancel();
    push_timer_.cancel();
    watchdog_timer_.cancel();
}

void connection::request_ping()
{
    ping_requested_ = true;
    wake_writer();
}

connection::timer_wait connection::wait_for_writer_work()
{
    return wait_on(writer_wake_, asio::steady_timer::time_point::max());
}

connection::timer_wait connection::wait_for_next_push()
{
    auto const due = scheduled_.empty() ? clock::time_point::max() : scheduled_.begin()->first;
    return wait_on(push_timer_, due);
}

connection::timer_wait connection::watchdog_sleep(clock::duration d)
{
    auto const deadline = d == clock::duration::max() ? clock::time_point::max() : clock::now() + d;
    return wait_on(watchdog_timer_, deadline);
}

connection::timer_wait connection::watchdog_sleep_until(clock::time_point deadline)
{
    return wait_on(watchdog_timer_, deadline);
}

void connection::record_end(std::string reason)
{
    if (end_reason_.empty())
        end_reason_ = std::move(reason);
}

}  // namespace coropush::net
