// Closing the sockets of ended sessions off the io threads, at the lowest priority.
//
// close() of a TCP socket is not free: it sends the FIN, and on loopback the kernel runs the
// peer's side of it too, in the caller. In the seed flow (10 000 clients that each drop their
// connection as soon as their notice is in: bench/README.md) the closes took as much of the io
// thread as the notices did, and the last notices left 35-87 ms late (p99 of the interval from
// the welcome; 3-9 ms with the closer). A session whose connection has ended has nothing more to
// say, so its socket can wait: its descriptor leaves Asio (and its epoll set) at once, and a
// thread of the closer's own, scheduled SCHED_IDLE (it runs when a core has nothing else to do),
// closes it. So a burst of closes costs the io threads nothing while they have work; it is paid
// when they are idle, or on another core.
//
// Waiting is bounded both ways. The descriptors count against the process's limit on open files,
// so at most `limit` of them wait (by default half the soft limit). And a peer should get its FIN
// soon even when every core stays busy and the thread gets almost no time: once the oldest
// descriptor has waited `max_wait` (a second by default), the next caller closes everything that
// waits, and its own socket, at once. Past the limit, past the wait, after stop(), and when the
// closer's lock is held at that moment (a caller never waits for a thread of the lowest
// priority), a socket is closed by the caller, as it would be without the closer.
#pragma once

#include "core/metrics.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

namespace coropush::net {

class socket_closer {
public:
    using clock = std::chrono::steady_clock;
    // How the thread closes a descriptor: ::close, or a test's stand-in.
    using close_function = void (*)(int descriptor);

    // `waiting` is the gauge that counts the descriptors waiting or being closed
    // (coropush_sockets_closing).
    explicit socket_closer(gauge& waiting, std::size_t limit = default_limit(),
                           clock::duration max_wait = std::chrono::seconds(1),
                           close_function closing = close_descriptor);
    ~socket_closer();
    socket_closer(socket_closer const&) = delete;
    socket_closer& operator=(socket_closer const&) = delete;

    // Any thread: closes `socket`, later on the closer's thread or (see above) at once. Either
    // way the socket is no longer open when this returns, and its pending operations, if any,
    // have been cancelled. The thread starts with the first socket it is given.
    void close(boost::asio::ip::tcp::socket& socket) noexcept;

    // Any thread but the closer's: closes every descriptor waiting, and ends the thread; close()
    // closes at once after it. Idempotent.
    void stop() noexcept;

    // Hands `socket` to the closer when it is destroyed: a member of the socket's owner, declared
    // right after the socket, so that the rest of the owner is gone first.
    class handoff {
    public:
        handoff(socket_closer& closer, boost::asio::ip::tcp::socket& socket) noexcept
            : closer_(closer),
              socket_(socket)
        {
        }
        ~handoff() { closer_.close(socket_); }
        handoff(handoff const&) = delete;
        handoff& operator=(handoff const&) = delete;
        handoff(handoff&&) = delete;
        handoff& operator=(handoff&&) = delete;

    private:
        socket_closer& closer_;
        boost::asio::ip::tcp::socket& socket_;
    };

    // Half the soft limit on open files (at least 16).
    static std::size_t default_limit() noexcept;
    static void close_descriptor(int descriptor) noexcept;

private:
    // Hands the socket's descriptor to the thread: true. False when the caller is to close it
    // itself, and then, if the oldest waited too long, with everything that waited in `overdue`.
    bool defer(boost::asio::ip::tcp::socket& socket, std::deque<int>& overdue) noexcept;
    void closed(int descriptor) noexcept;
    void run() noexcept;

    gauge& waiting_;
    std::size_t const limit_;
    clock::duration const max_wait_;
    close_function const close_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<int> descriptors_;  // guarded by mutex_: oldest first
    clock::time_point oldest_;     // guarded by mutex_: when the front of descriptors_ came, or before
    std::size_t in_hand_ = 0;      // guarded by mutex_: taken by the thread, not closed yet
    bool stopped_ = false;         // guarded by mutex_
    std::thread thread_;           // started under mutex_ by the first close() that defers
};

}  // namespace coropush::net
