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
    auto const in_flight = front_in_flight_ ? frames_[head_].size() : 0;
    auto const waiting = messages() - (front_in_flight_ ? 1 : 0);
    return waiting == 0 || bytes_ - in_flight + extra_bytes <= limits_.max_bytes;
}

outbound_queue::push_result outbound_queue::push(outbound_frame frame)
{
    if (fits(1, frame.size())) {
        bytes_ += frame.size();
        frames_.push_back(std::move(frame));
        return push_result::queued;
    }
    // Full. A frame with a coalesce key replaces the newest waiting frame with the same key: the
    // client skips intermediate values, never sees them out of order, and is not closed for it.
    if (frame.coalesce_key != 0) {
        auto const waiting_begin = frames_.rbegin();
        auto const waiting_end = frames_.rend() - static_cast<std::ptrdiff_t>(head_ + (front_in_flight_ ? 1 : 0));
        auto const same = std::find_if(waiting_begin, waiting_end,
                                       [&](outbound_frame const& f) { return f.coalesce_key == frame.coalesce_key; });
        if (same != waiting_end) {
            bytes_ = bytes_ - same->size() + frame.size();
            *same = std::move(frame);
            return push_result::coalesced;
        }
    }
    return limits_.policy == overflow_policy::drop_newest ? push_result::dropped : push_result::overflow;
}

outbound_frame outbound_queue::front()
{
    assert(!empty());
    front_in_flight_ = true;
    return frames_[head_];
}

void outbound_queue::pop()
{
    assert(!empty());
    bytes_ -= frames_[head_].size();
    frames_[head_] = {};  // let go of the payload now
    ++head_;
    front_in_flight_ = false;
    if (head_ == frames_.size()) {
        // Drained: start again at the front; a burst's large array is given back.
        frames_.clear();
        head_ = 0;
        if (frames_.capacity() > 64)
            frames_.shrink_to_fit();
    } else if (head_ >= 32 && 2 * head_ >= frames_.size()) {
        // Never drained (a steady stream): move the waiting frames down, so the storage stays
        // bounded by the queue's limits rather than by how many frames ever passed through.
        frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void outbound_queue::drop_waiting()
{
    auto const keep = head_ + (front_in_flight_ ? 1 : 0);
    while (frames_.size() > keep) {
        bytes_ -= frames_.back().size();
        frames_.pop_back();
    }
}

}  // namespace coropush
