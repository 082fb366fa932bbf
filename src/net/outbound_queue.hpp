// The bounded queue of messages waiting to be written to one connection, and its overflow policy.
//
// Bounded twice: by message count and by bytes, so neither many tiny messages nor a few huge ones
// let a slow reader grow the server's memory. The bounds apply to what waits behind the message
// being written; a message that finds nothing waiting is always taken, so one message within its
// endpoint's size limit is never refused for its size alone. When a message does not fit, `push` reports
// `overflow` (policy close: the caller closes the connection with 1008) or `dropped` (policy
// drop_newest), unless it has a coalesce key and a message with the same key is still waiting: then
// it replaces the newest such message ("latest value wins"). That is how job progress survives a
// slow reader without closing it, while a reader that keeps up still sees every update.
#pragma once

#include "config/options.hpp"
#include "core/outbound.hpp"

#include <cstddef>
#include <vector>

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

    push_result push(outbound_message message);

    // The writer's side: `front` is the next message to write (a copy: it shares the payload, and
    // stays valid whatever is pushed meanwhile) and stays counted (its memory is still held) until
    // `pop` after the write completes. A message being written is never coalesced away.
    bool empty() const noexcept { return head_ == messages_.size(); }
    outbound_message front();
    void pop();

    // Drops every message not being written (before a slow-consumer close).
    void drop_waiting();

    std::size_t messages() const noexcept { return messages_.size() - head_; }
    std::size_t bytes() const noexcept { return bytes_; }
    queue_limits const& limits() const noexcept { return limits_; }
    // Slots the storage holds (for tests: a queue that is never empty must not grow without end).
    std::size_t capacity() const noexcept { return messages_.capacity(); }

private:
    bool fits(std::size_t extra_messages, std::size_t extra_bytes) const noexcept;

    queue_limits limits_;
    // A vector read from `head_`, rather than a std::deque: an empty vector owns no memory, and
    // most connections' queues are empty most of the time (a deque allocates 576 bytes up front).
    std::vector<outbound_message> messages_;
    std::size_t head_ = 0;
    std::size_t bytes_ = 0;
    bool front_in_flight_ = false;
};

}  // namespace coropush
