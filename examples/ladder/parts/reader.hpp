// Step 2's idea, shared by every later step: the reader. It awaits each message and hands it on,
// never waiting for a write (02-reader-and-writer.cpp tells the story). And step 2's answer to a
// hello, shared by step 3: the welcome queued at once, the notice queued by a coroutine that
// sleeps a second beside the reader.
//
// `send(s, message)` is the step's own (it queues for the writer); C++ finds it in the session
// type's namespace (argument-dependent lookup).
#pragma once

#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace ladder {

// Reads the session's messages until the connection ends, and calls `answer` with each (nothing
// when it is not a request). `answer` only queues replies: the reader goes straight back to
// reading. A read error is the end of the session: the client closed (Beast has answered its
// close frame) or the connection is gone.
template <class Session, class Answer>
asio::awaitable<void> read_requests(Session& s, Answer answer)
{
    boost::beast::flat_buffer buffer;
    for (;;) {
        auto [read_error, read] = co_await s.ws.async_read(buffer, nothrow);
        if (read_error)
            break;
        answer(take_request(buffer));
    }
}

// A second after a hello, the notice. While this coroutine sleeps the reader goes on reading.
template <class Session>
asio::awaitable<void> notice_later(std::shared_ptr<Session> s)
{
    asio::steady_timer timer(s->ws.get_executor(), notice_delay);
    co_await timer.async_wait(nothrow);
    send(s, make_message("notice", {}, {{"text", "one second after your hello"}}));
}

// Answers a message of steps 2 to 6: a hello gets its welcome, anything else an error reply. True
// for a hello: its notice is the caller's to push.
template <class Session>
bool welcome(std::shared_ptr<Session> const& s, std::optional<request> const& hello)
{
    if (!hello || hello->type != "hello") {
        send(s, make_error(hello, "expected a hello"));
        return false;
    }
    send(s, make_message("welcome", hello->id, {{"text", "welcome!"}}));
    return true;
}

// Answers a message of steps 2 and 3: a hello gets its welcome now and its notice a second later.
template <class Session>
void answer_hello(std::shared_ptr<Session> const& s, std::optional<request> const& hello)
{
    if (welcome(s, hello))
        asio::co_spawn(s->ws.get_executor(), notice_later(s), coropush::log_exceptions("notice"));
}

// Waits for the client's upgrade request and answers it (101 Switching Protocols), as step 1 does,
// and says so. False when it failed: the session is over.
template <class Session>
asio::awaitable<bool> accept_handshake(Session& s)
{
    auto [handshake_error] = co_await s.ws.async_accept(nothrow);
    if (!handshake_error)
        say("session " + std::to_string(s.id) + ": opened");
    co_return !handshake_error;
}

}  // namespace ladder
