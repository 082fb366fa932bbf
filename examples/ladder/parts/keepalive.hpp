// Step 5's idea, shared by every later step: keep-alive. After ping_interval of silence the
// watchdog asks for a ping, the writer writes it, and a client that does not answer within
// ping_timeout is dropped (05-keepalive.cpp tells the story).
//
// A session of step 5 on has pings besides its deadlines (parts/deadline.hpp). What counts as
// hearing from the client, heard(), is the step's own: step 6 changes it.
#pragma once

#include "parts/deadline.hpp"

#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <utility>

namespace ladder {

constexpr std::chrono::seconds ping_interval{1};  // of silence before a ping
constexpr std::chrono::seconds ping_timeout{1};   // for the answer

struct pings {
    bool ping_requested = false;                           // the writer sends a ping before the next message
    clock::time_point ping_at = clock::time_point::max();  // a deadline: the next ping is due
};

// When the ping is due: the client has been silent for ping_interval. The writer sends it, and
// the answer (or any message) must come within ping_timeout.
template <class Session>
void ping_if_due(std::shared_ptr<Session> const& s, clock::time_point now)
{
    if (!s->open || now < s->ping_at)
        return;
    say("session " + std::to_string(s->id) + ": ping");
    s->ping_requested = true;
    start_writer(s);
    s->ping_at = clock::time_point::max();
    s->drop_at = now + ping_timeout;
}

// Step 4's watchdog with one more deadline, the ping's.
template <class Session>
asio::awaitable<void> watchdog_with_pings(std::shared_ptr<Session> s)
{
    while (s->open) {
        s->deadline_timer.expires_at(next_deadline(*s, std::min(s->ping_at, s->drop_at)));
        co_await s->deadline_timer.async_wait(nothrow);  // the deadline, or an earlier one was set
        auto const now = clock::now();
        send_due(s, now);
        ping_if_due(s, now);
        if (s->open && now >= s->drop_at) {
            drop(*s, "no word from the client in time");
            break;
        }
    }
}

// What the writer writes while the session is open: a ping when one is asked for, and the outbox.
// The ping goes through the writer like every frame: one writer, one write in flight.
template <class Session>
asio::awaitable<void> write_pings_and_outbox(std::shared_ptr<Session> s)
{
    while (s->open && (s->ping_requested || !s->outbox.empty())) {
        if (std::exchange(s->ping_requested, false)) {
            auto [ping_error] = co_await s->ws.async_ping({}, nothrow);
            if (ping_error)
                break;
            continue;
        }
        bool const written = co_await write_next(*s);
        if (!written)
            break;
    }
}

// Hears the client's pongs: Beast calls this inside the pending read when a control frame
// arrives. The callback refers to the state (which owns the stream, which owns the callback)
// without owning it: no cycle.
template <class Session, class Heard>
void listen_for_pongs(Session& s, Heard heard)
{
    namespace websocket = boost::beast::websocket;
    s.ws.control_callback([&s, heard](websocket::frame_type kind, boost::beast::string_view) {
        if (kind != websocket::frame_type::pong)
            return;
        say("session " + std::to_string(s.id) + ": pong");
        heard(s);
    });
}

}  // namespace ladder
