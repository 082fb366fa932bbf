// Two idioms of the server's coroutines, named once. Included by the .cpp files that await
// something (this header pulls in Asio's timer; keep it out of other headers).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace coropush {

// Errors as values: `auto [ec, n] = co_await stream.async_read_some(buffer, nothrow);`. A closed
// socket, a timeout or a lost peer is an outcome the code looks at, not an exception; exceptions
// are left for bugs, and log_exceptions (core/log.hpp) reports those.
inline constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

// A coroutine's wake-up call: a steady_timer used as a signal. `wait_until(t)` returns at `t`, or
// earlier when someone calls `notify()` (on the same executor), whichever comes first; `wait()`
// returns only on notify. A notify with nobody waiting is not remembered, so the waiter looks at
// what it waits for before each wait and after it:
//
//     while (!done) co_await wake.wait_until(deadline);   // and elsewhere: done = true; wake.notify();
//
// Cheaper than a channel and enough for one waiter: a notify cancels the timer's wait.
class wake_signal {
public:
    using clock = std::chrono::steady_clock;

    explicit wake_signal(boost::asio::any_io_executor const& executor)
        : timer_(executor)
    {
    }

    // co_await these: each completes with a tuple holding the timer's error code (operation_aborted
    // when notified), which callers may ignore. No coroutine frame of its own: it is the timer's wait.
    auto wait_until(clock::time_point when)
    {
        timer_.expires_at(when);
        return timer_.async_wait(nothrow);
    }
    auto wait_for(clock::duration d)
    {
        timer_.expires_after(d);  // saturates rather than overflowing for a huge d
        return timer_.async_wait(nothrow);
    }
    auto wait() { return wait_until(clock::time_point::max()); }

    // Wakes the coroutine waiting now, if any.
    void notify() noexcept { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

}  // namespace coropush
