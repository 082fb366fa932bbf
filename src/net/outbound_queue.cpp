// Bounded outbound queue: limits, coalescing and the overflow policy.
#include "net/outbound_queue.hpp"

#include <algorithm>
#include <cassert>

namespace coropush {

bool outbound_queue::fits(std::size_t extra_messages, std::size_t extra_bytes) const noexcept
{
    return frames_.size() + extra_messages <= limits_.max_messages && bytes_ + extra_bytes <= limits_.max_bytes;
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
        auto const waiting_end = frames_.rend() - (front_in_flight_ ? 1 : 0);
        auto const same = std::find_if(waiting_begin, waiting_end, [&](outbound_frame const& f) {
            return f.coalesce_key == frame.coalesce_key;
        });
        if (same != waiting_end) {
            bytes_ = bytes_ - same->size() + frame.size();
            *same = std::move(frame);
            return push_result::coalesced;
        }
    }
    return limits_.policy == overflow_policy::drop_newest ? push_result::dropped : push_result::overflow;
}

outbound_frame const& outbound_queue::front()
{
    assert(!frames_.empty());
    front_in_flight_ = true;
    return frames_.front();
}

void outbound_queue::pop()
{
    assert(!frames_.empty());
    bytes_ -= frames_.front().size();
    frames_.pop_front();
    front_in_flight_ = false;
}

void outbound_queue::drop_waiting()
{
    auto const keep = front_in_flight_ ? std::size_t{1} : std::size_t{0};
    while (frames_.size() > keep) {
        bytes_ -= frames_.back().size();
        frames_.pop_back();
    }
}

}  // namespace coropush
