// The bounded queue of messages waiting to be written to one connection, and its overflow policy.
//
// Bounded twice: by message count and by bytes, so neither many tiny messages nor a few huge ones
// let a slow reader grow the server's memory. When a frame does not fit, `push` reports
// `overflow` (policy close: the caller closes the connection with 1008) or `dropped` (policy
// drop_newest), unless it has a coalesce key and a frame with the same key is still waiting: then
// it replaces the newest such frame ("latest value wins"). That is how job progress survives a
// slow reader without closing it, while a reader that keeps up still sees every update.
#pragma once

#include "core/frame.hpp"
#include "core/options.hpp"

#include <cstddef>
#include <deque>

namespace coropush {

struct queue_limits {
    std::size_t max_messages = 1024;
    std::size_t max_bytes = std::size_t{4} * 1024 * 1024;
    overflow_policy policy = overflow_policy::close;
};

class outbound_queue {
public:
    enum class push_result { queued, coalesced, dropped, overflow };

    explicit outbound_queue(queue_limits limits)
        : limits_(limits)
    {
    }

    push_result push(outbound_frame frame);

    // The writer's side: `front` is the next frame to write and stays counted (its memory is still
    // held) until `pop` after the write completes. A frame being written is never coalesced away.
    bool empty() const noexcept { return frames_.empty(); }
    outbound_frame const& front();
    void pop();

    // Drops every frame not being written (before a slow-consumer close).
    void drop_waiting();

    std::size_t messages() const noexcept { return frames_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }
    queue_limits const& limits() const noexcept { return limits_; }

private:
    bool fits(std::size_t extra_messages, std::size_t extra_bytes) const noexcept;

    queue_limits limits_;
    std::deque<outbound_frame> frames_;
    std::size_t bytes_ = 0;
    bool front_in_flight_ = false;
};

}  // namespace coropush
