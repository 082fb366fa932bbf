// Step 3's idea, shared by every later step: a queue and one writer, started when there is
// something to write (03-queue-and-one-writer.cpp tells the story).
//
// Each later step's session_state is made of the parts of the steps before it (this file's
// queued_session, parts/deadline.hpp's deadlines, ...), and the functions here are templates over
// it, so that they serve every step as the state grows.
//
// start_writer() runs `writer(s)`: the writer each step declares beside its session_state. Steps 3
// and 4 take write_outbox() below as it is; step 5 adds a ping, step 6 a close frame at the end.
// (C++ finds that writer in the session type's own namespace: argument-dependent lookup.)
#pragma once

#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <memory>
#include <utility>

namespace ladder {

// What a session's coroutines share, from step 3 on. Each of them holds a shared_ptr to it, so it
// lives as long as the last of them, and none can touch a stream that is gone.
struct queued_session {
    queued_session(tcp::socket socket, std::uint64_t session_id)
        : ws(std::move(socket)),
          id(session_id)
    {
    }

    boost::beast::websocket::stream<tcp::socket> ws;
    std::deque<outbound_message> outbox;  // written in order, by the writer only
    bool writer_running = false;          // set by start_writer(), cleared by the writer
    std::uint64_t const id;
    bool open = true;  // false once the reader has ended: nothing more is written
};

// Starts the session's writer, unless it is running already (then it will get to what was queued).
template <class Session>
void start_writer(std::shared_ptr<Session> const& s)
{
    if (s->writer_running)
        return;
    s->writer_running = true;
    asio::co_spawn(s->ws.get_executor(), writer(s), coropush::log_exceptions("writer"));
}

// Queues a message for the writer.
template <class Session>
void send(std::shared_ptr<Session> const& s, outbound_message message)
{
    if (!s->open)
        return;
    s->outbox.push_back(std::move(message));
    start_writer(s);
}

// Writes the message at the head of the outbox; false when the connection is gone (the reader
// learns it too, and ends).
template <class Session>
asio::awaitable<bool> write_next(Session& s)
{
    auto const message = s.outbox.front();  // this copy keeps it alive while it is written
    s.outbox.pop_front();
    auto [write_error, written] = co_await s.ws.async_write(asio::buffer(*message), nothrow);
    co_return !write_error;
}

// The only coroutine that writes to the stream: what is in the outbox, in order, one at a time.
// It returns when the outbox is empty; the next send() starts it again.
template <class Session>
asio::awaitable<void> write_outbox(std::shared_ptr<Session> s)
{
    while (s->open && !s->outbox.empty()) {
        bool const written = co_await write_next(*s);
        if (!written)
            break;
    }
    s->writer_running = false;
}

}  // namespace ladder
