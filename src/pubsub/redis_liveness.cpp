// The bookkeeping behind a Redis connection's heartbeat and its bound on unanswered bytes.
#include "pubsub/redis_liveness.hpp"

#include <algorithm>

namespace coropush::pubsub {

redis_liveness::redis_liveness(limits bounds)
    : bounds_(bounds)
{
}

bool redis_liveness::fits(std::size_t bytes) const noexcept
{
    auto const owed = unanswered_bytes();
    return owed == 0 || owed + bytes <= bounds_.max_unanswered_bytes;
}

void redis_liveness::sent(std::size_t bytes) noexcept
{
    sent_ += bytes;
}

void redis_liveness::heartbeat_sent(std::size_t bytes, clock::time_point now)
{
    sent_ += bytes;
    sent_at_last_heartbeat_ = sent_;
    last_heartbeat_ = now;
    in_flight_.push_back({now, sent_});
}

void redis_liveness::heartbeat_answered() noexcept
{
    if (in_flight_.empty())
        return;  // not ours to count (a reply the link did not ask for)
    answered_ = std::max(answered_, in_flight_.front().answers_up_to);
    in_flight_.pop_front();
}

bool redis_liveness::heartbeat_due(clock::time_point now) const noexcept
{
    // Bytes since the last heartbeat count too: under a steady stream of commands, answers are
    // only learned at heartbeat replies, and the bound must not trip on a Redis that keeps up.
    auto const byte_step = std::max<std::uint64_t>(bounds_.max_unanswered_bytes / 8, 1);
    return now >= last_heartbeat_ + bounds_.heartbeat_interval || sent_ - sent_at_last_heartbeat_ >= byte_step;
}

bool redis_liveness::overdue(clock::time_point now) const noexcept
{
    return !in_flight_.empty() && now >= in_flight_.front().sent_at + bounds_.reply_timeout;
}

redis_liveness::clock::time_point redis_liveness::next_check() const noexcept
{
    auto next = last_heartbeat_ + bounds_.heartbeat_interval;
    if (!in_flight_.empty())
        next = std::min(next, in_flight_.front().sent_at + bounds_.reply_timeout);
    return next;
}

void redis_liveness::reset() noexcept
{
    sent_ = answered_ = sent_at_last_heartbeat_ = 0;
    last_heartbeat_ = {};
    in_flight_.clear();
}

}  // namespace coropush::pubsub
