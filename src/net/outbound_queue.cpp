// Bounded outbound queue: limits, coalescing and the overflow policy.
#include "net/outbound_queue.hpp"

#include <algorithm>
#include <cassert>

namespace coropush {

bool outbound_queue::fits(std::size_t extra_messages, std::size_t extra_bytes) const noexcept
{
    if (messages() + extra_messages > limits_.max_messages)
        return false;
    // The limits bound what *waits*: a message being written has left the queue as far as a new
    // one is concerned, and a message that finds nothing waiting always fits, however large. Its
    // size was already bounded where it came from (an endpoint's message limit, a publish's), so
    // a 16 MiB echo is never a slow consumer just because the byte limit is 4 MiB.
    auto const in_flight = front_in_flight_ ? messages_[head_].size() : 0;
    auto const waiting = messages() - (front_in_flight_ ? 1 : 0);
    return waiting == 0 || bytes_ - in_flight + extra_bytes <= limits_.max_bytes;
}

outbound_queue::push_result outbound_queue::push(outbound_message message)
{
    if (fits(1, message.size())) {
        bytes_ += message.size();
        messages_.push_back(std::move(message));
        return push_result::queued;
    }
    // Full. A message with a coalesce key replaces the newest waiting message with the same key: the
    // client skips intermediate values, never sees them out of order, and is not closed for it.
    if (message.coalesce_key != 0) {
        auto const waiting_begin = messages_.rbegin();
        auto const waiting_end = messages_.rend() - static_cast<std::ptrdiff_t>(head_ + (front_in_flight_ ? 1 : 0));
        auto const same = std::find_if(waiting_begin, waiting_end, [&](outbound_message const& f) {
            return f.coalesce_key == message.coalesce_key;
        });
        if (same != waiting_end) {
            bytes_ = bytes_ - same->size() + message.size();
            *same = std::move(message);
            return push_result::coalesced;
        }
    }
    return limits_.policy == overflow_policy::drop_newest ? push_result::dropped : push_result::overflow;
}

outbound_message outbound_queue::front()
{
    assert(!empty());
    front_in_flight_ = true;
    return messages_[head_];
}

void outbound_queue::pop()
{
    assert(!empty());
    bytes_ -= messages_[head_].size();
    messages_[head_] = {};  // let go of the payload now
    ++head_;
    front_in_flight_ = false;
    if (head_ == messages_.size()) {
        // Drained: start again at the front; a burst's large array is given back.
        messages_.clear();
        head_ = 0;
        if (messages_.capacity() > 64)
            messages_.shrink_to_fit();
    } else if (head_ >= 32 && 2 * head_ >= messages_.size()) {
        // Never drained (a steady stream): move the waiting messages down, so the storage stays
        // bounded by the queue's limits rather than by how many messages ever passed through.
        messages_.erase(messages_.begin(), messages_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void outbound_queue::drop_waiting()
{
    auto const keep = head_ + (front_in_flight_ ? 1 : 0);
    while (messages_.size() > keep) {
        bytes_ -= messages_.back().size();
        messages_.pop_back();
    }
}

}  // namespace coropush
