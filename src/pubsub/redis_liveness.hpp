// What one Redis connection owes us: the bytes of commands Redis has not answered yet, and the
// heartbeats in flight with their deadlines. A plain object fed events and the time (no socket,
// no timer), so redis_link's decisions are unit-tested on their own.
//
// Redis answers a connection's commands in order, so when a heartbeat is answered, so is every
// command sent before it. The count of unanswered bytes is therefore exact at each heartbeat
// reply and an upper bound in between; heartbeats go out every `heartbeat_interval` and also
// after each eighth of `max_unanswered_bytes` sent, so the bound is never far from the truth.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace coropush::pubsub {

struct redis_liveness_limits {
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds reply_timeout{3000};                    // a heartbeat unanswered this long: Redis is hung
    std::size_t max_unanswered_bytes = std::size_t{8} * 1024 * 1024;  // sent and not answered; past it: Redis is hung
};

class redis_liveness {
public:
    using clock = std::chrono::steady_clock;
    using limits = redis_liveness_limits;

    explicit redis_liveness(limits bounds);

    // Whether a command of `bytes` may be sent without passing max_unanswered_bytes. A command
    // always fits when nothing is unanswered, so one larger than the bound still goes out.
    bool fits(std::size_t bytes) const noexcept;

    // A command of `bytes` was queued (hiredis's output buffer counts as sent).
    void sent(std::size_t bytes) noexcept;
    // A heartbeat of `bytes` was queued at `now`.
    void heartbeat_sent(std::size_t bytes, clock::time_point now);
    // The oldest heartbeat in flight was answered (and with it everything sent before it).
    void heartbeat_answered() noexcept;

    // Time for a heartbeat: the interval has passed since the last one, or an eighth of the
    // byte bound has been sent since.
    bool heartbeat_due(clock::time_point now) const noexcept;
    // The oldest heartbeat in flight has waited longer than reply_timeout.
    bool overdue(clock::time_point now) const noexcept;
    // When heartbeat_due or overdue can next become true (for the link's timer).
    clock::time_point next_check() const noexcept;

    std::uint64_t unanswered_bytes() const noexcept { return sent_ - answered_; }
    std::size_t heartbeats_in_flight() const noexcept { return in_flight_.size(); }
    limits const& bounds() const noexcept { return bounds_; }

    // A new connection: nothing sent, nothing owed.
    void reset() noexcept;

private:
    struct heartbeat {
        clock::time_point sent_at;
        std::uint64_t answers_up_to;  // sent_ just after the heartbeat was queued
    };

    limits bounds_;
    std::uint64_t sent_ = 0;      // bytes queued on this connection
    std::uint64_t answered_ = 0;  // of those, bytes certainly answered
    std::uint64_t sent_at_last_heartbeat_ = 0;
    clock::time_point last_heartbeat_{};
    std::deque<heartbeat> in_flight_;  // oldest first
};

}  // namespace coropush::pubsub
