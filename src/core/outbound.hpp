// An outbound WebSocket message and the handles through which one is queued for a connection.
// A payload is immutable and shared: a topic message is serialized once and the same buffer sits
// in every subscriber's queue (the CppCon2018 chat's design), so fan-out copies a pointer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace coropush {

using shared_payload = std::shared_ptr<std::string const>;

inline shared_payload make_payload(std::string text)
{
    return std::make_shared<std::string const>(std::move(text));
}

struct outbound_message {
    shared_payload payload;
    bool binary = false;
    // Non-zero: when the queue is full, a later message with the same key replaces this one while it
    // still waits ("latest value wins", used for job progress). Zero: never replaced.
    std::uint64_t coalesce_key = 0;

    std::size_t size() const noexcept { return payload ? payload->size() : 0; }
};

inline outbound_message text_message(shared_payload payload)
{
    return {std::move(payload), false, 0};
}

// A connection as seen from outside its shard (the topic hub, a job, the registry): pushing is
// safe from any thread, and a push to a connection that has ended is a no-op.
class push_target {
public:
    virtual ~push_target() = default;
    virtual std::uint64_t id() const noexcept = 0;
    // False when the connection takes no more messages (it is closing or has ended), so the
    // message is not sent; true when it was handed to the connection's queue.
    virtual bool push(outbound_message message) = 0;

    // For fan-out (the topic hub), which hands a message to each of the server's shards once,
    // rather than to each subscriber (the defaults suit a target that lives on one thread, as the
    // tests' do): the shard this connection runs on (one per io thread), ...
    virtual std::size_t shard() const noexcept { return 0; }
    // ... whether it still takes messages (what push would answer), read from any thread ...
    virtual bool accepting() const noexcept { return true; }
    // ... and, called on that shard only, queueing the message there and then: no hand-off, no lock.
    virtual void push_here(outbound_message message) { push(std::move(message)); }

    // Flush what is queued, then close the session with this code and reason (the backend
    // disconnecting a user): outbox::close, from any thread. A no-op for a connection that has
    // ended or is not a WebSocket.
    virtual void close_websocket(std::uint16_t code, std::string reason) = 0;
};

// What a message handler may do with its own connection. Only called on that connection's
// strand (the handler runs inside the session's reader coroutine).
class outbox {
public:
    virtual ~outbox() = default;
    virtual std::uint64_t id() const noexcept = 0;
    // Queue a message now.
    virtual void send(outbound_message message) = 0;
    // The same for a message whose bytes the caller keeps only until this returns (a reply
    // encoded on the stack, an echo of the message being read): a connection that can send it at
    // once copies it straight into its write batch, and only one that must queue it makes it a
    // shared payload.
    virtual void send_copy(std::string_view payload, bool binary)
    {
        send(outbound_message{make_payload(std::string(payload)), binary, 0});
    }
    // Queue a message once `delay` has passed (the demo's notice), counted from when everything
    // queued before it has been written: a reply and a push `delay` later reach the client
    // `delay` apart, even when the reply waited in the queue. Ordered by due time.
    virtual void send_after(std::chrono::steady_clock::duration delay, outbound_message message) = 0;
    // Flush what is queued, then close with this code and reason.
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    // Close with this code and reason at `when`, unless called again first (the last call wins;
    // time_point::max() for no deadline): how an unauthenticated session or an expiring token
    // ends. `reason` must be static text (a literal): it is kept, not copied, to keep every
    // idle connection small.
    virtual void close_at(std::chrono::steady_clock::time_point when, std::uint16_t code, std::string_view reason) = 0;
    // A handle for others (hub, jobs) to push to this connection later, from any thread.
    virtual std::shared_ptr<push_target> target() = 0;
};

}  // namespace coropush
