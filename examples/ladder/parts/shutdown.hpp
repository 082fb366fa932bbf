// Step 6's idea, shared by steps 7 and 8: graceful shutdown. A session can be closed politely (what
// is queued, then a close frame with a deadline), and on SIGINT/SIGTERM the server stops accepting
// and closes every session (06-graceful-shutdown.cpp tells the story).
//
// From step 6 on the session no longer changes, so the functions on it are not templates: they are
// compiled once (parts/shutdown.cpp), with the queue, deadlines and keep-alive of steps 3 to 5
// (parts/queue_and_writer.hpp, parts/deadline.hpp, parts/keepalive.hpp) as they are.
#pragma once

#include "ladder.hpp"
#include "parts/deadline.hpp"
#include "parts/keepalive.hpp"
#include "parts/queue_and_writer.hpp"

#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string_view>

namespace ladder::graceful {

constexpr std::chrono::seconds close_timeout{2};  // to write what is queued, then for the client's close frame

// A session of steps 6 to 8: step 5's, and a close frame to send.
struct session_state : queued_session, deadlines, pings {
    session_state(tcp::socket socket, std::uint64_t session_id);

    boost::beast::websocket::close_reason closing;  // set by close(): the writer sends it after the queue
    bool close_sent = false;
};

// What the sessions share: main owns it, and it outlives io.run(), so they refer to it freely.
struct server_state {
    std::set<std::shared_ptr<session_state>> sessions;  // every open session
    bool shutting_down = false;
};

// Queues a message for the writer; nothing goes after the close frame.
void send(std::shared_ptr<session_state> const& s, outbound_message message);

// The client said something (a message, a pong): it is there. Once the session is closing, the
// close deadline stands.
void heard(session_state& s);

// Ends the session politely: what is queued is written, then the close frame; the client answers
// with its own, which ends the reader's read. One that does not is dropped at the close deadline.
void close(std::shared_ptr<session_state> const& s, boost::beast::websocket::close_code code, std::string_view reason);

// The writer: pings and the outbox as in step 5, then the close frame if close() asked for one.
asio::awaitable<void> writer(std::shared_ptr<session_state> s);

// The start of a session: the watchdog, the handshake under its deadline, keep-alive, and the
// session in the server's set (closed at once if the shutdown has begun). False: it is over.
asio::awaitable<bool> join(std::shared_ptr<session_state> s, server_state& server);

// The end of a session, once its reader has ended: nothing more is written, the watchdog returns,
// and the session is out of the server's set.
void leave(std::shared_ptr<session_state> const& s, server_state& server);

// A session coroutine of steps 6 to 8: it is handed the server's state too.
using session_function = std::function<asio::awaitable<void>(tcp::socket, std::uint64_t, server_state&)>;

// The main of steps 6 to 8: listen, accept, and on SIGINT or SIGTERM stop accepting and close
// every session; returns 0 once the last one has ended.
int serve_until_signal(int argc, char** argv, session_function session);

}  // namespace ladder::graceful
