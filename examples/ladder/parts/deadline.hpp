// Step 4's idea, shared by every later step: timers as deadlines, kept by one watchdog coroutine
// beside the session with one steady_timer (04-deadlines.cpp tells the story).
//
// A session of step 4 on is a queued_session (parts/queue_and_writer.hpp) with deadlines.
#pragma once

#include "parts/queue_and_writer.hpp"
#include "parts/reader.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace ladder {

constexpr std::chrono::seconds handshake_timeout{1};

// The deadlines: pushes and when they are due; when the client is dropped unless it speaks (the
// handshake's limit, then the idle limit; from step 5 a ping's); and the watchdog's one timer.
struct deadlines {
    explicit deadlines(asio::any_io_executor const& executor)
        : deadline_timer(executor)
    {
    }

    std::multimap<clock::time_point, outbound_message> scheduled;
    clock::time_point drop_at = clock::time_point::max();
    asio::steady_timer deadline_timer;
};

// Puts a message on the schedule; the watchdog sends it when it is due.
template <class Session>
void schedule(std::shared_ptr<Session> const& s, clock::time_point when, outbound_message message)
{
    s->scheduled.emplace(when, std::move(message));
    s->deadline_timer.cancel();  // wakes the watchdog: this may come before what it sleeps until
}

// The connection is dropped: its socket closed, so the pending handshake or read fails and the
// session ends as if the client had gone. Never by cancelling the read: in Boost 1.81, cancelling a
// WebSocket read closes the stream.
template <class Session>
void drop(Session& s, std::string const& why)
{
    say("session " + std::to_string(s.id) + ": dropped: " + why);
    boost::beast::error_code ignored;
    s.ws.next_layer().close(ignored);
}

// The session is over: nothing more is written, and the watchdog returns.
template <class Session>
void end(Session& s)
{
    s.open = false;  // a writer still running sees it after its write and returns
    s.deadline_timer.cancel();
}

// Sends what is on the schedule and due by `now`.
template <class Session>
void send_due(std::shared_ptr<Session> const& s, clock::time_point now)
{
    while (s->open && !s->scheduled.empty() && s->scheduled.begin()->first <= now) {
        send(s, s->scheduled.begin()->second);
        s->scheduled.erase(s->scheduled.begin());
    }
}

// The earliest of the session's deadlines: a scheduled push, or `also` (the drop, from step 5 the
// ping too).
template <class Session>
clock::time_point next_deadline(Session const& s, clock::time_point also)
{
    if (!s.scheduled.empty())
        return std::min(also, s.scheduled.begin()->first);
    return also;
}

// Keeps the session's deadlines with one timer: sleeps until the earliest, does what is due.
template <class Session>
asio::awaitable<void> watchdog(std::shared_ptr<Session> s)
{
    while (s->open) {
        s->deadline_timer.expires_at(next_deadline(*s, s->drop_at));
        // Ends at the deadline, or early when the timer is cancelled (an earlier deadline was set,
        // or the session ended): either way, look at what is due now.
        co_await s->deadline_timer.async_wait(nothrow);
        auto const now = clock::now();
        send_due(s, now);
        if (s->open && now >= s->drop_at) {
            drop(*s, "no word from the client in time");
            break;
        }
    }
}

// Answers a message of steps 4 to 6: a hello gets its welcome now, and its notice goes on the
// schedule (no coroutine asleep per hello any more).
template <class Session>
void answer_hello_on_schedule(std::shared_ptr<Session> const& s, std::optional<request> const& hello)
{
    if (welcome(s, hello))
        schedule(s, clock::now() + notice_delay, make_message("notice", {}, {{"text", "one second after your hello"}}));
}

// The handshake (parts/reader.hpp) under the deadline the watchdog keeps; when it fails the
// session is over, and the watchdog returns.
template <class Session>
asio::awaitable<bool> accept_handshake_in_time(std::shared_ptr<Session> s)
{
    bool const opened = co_await accept_handshake(*s);
    if (opened)
        co_return true;
    end(*s);
    co_return false;
}

}  // namespace ladder
