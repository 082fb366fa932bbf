// Step 6's graceful shutdown (parts/shutdown.hpp), compiled once for steps 6 to 8, with the parts
// of steps 3 to 5 it is built on.
#include "parts/shutdown.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>

#include <csignal>

namespace ladder::graceful {

namespace websocket = boost::beast::websocket;

namespace {

// Waits for SIGINT or SIGTERM, then shuts down: no new connections, every session closed.
asio::awaitable<void> shut_down_on_signal(tcp::acceptor& acceptor, server_state& server)
{
    asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
    auto [ec, signal_number] = co_await signals.async_wait(nothrow);
    if (ec)
        co_return;
    say("signal " + std::to_string(signal_number) + ": shutting down");
    server.shutting_down = true;
    acceptor.close();                            // the accept loop's pending accept fails, and it returns
    auto const open_sessions = server.sessions;  // a copy: a session leaves the set when it ends
    for (auto const& s : open_sessions)
        close(s, websocket::close_code::going_away, "server shutting down");
}

}  // namespace

session_state::session_state(tcp::socket socket, std::uint64_t session_id)
    : queued_session(std::move(socket), session_id),
      deadlines(ws.get_executor())
{
}

void send(std::shared_ptr<session_state> const& s, outbound_message message)
{
    if (s->closing)
        return;  // nothing goes after the close frame
    ladder::send(s, std::move(message));
}

void heard(session_state& s)
{
    if (s.closing)
        return;  // the close deadline stands
    s.ping_at = clock::now() + ping_interval;
    s.drop_at = clock::time_point::max();
}

void close(std::shared_ptr<session_state> const& s, websocket::close_code code, std::string_view reason)
{
    if (!s->open || s->closing)
        return;
    s->closing = websocket::close_reason(code, reason);
    s->ping_at = clock::time_point::max();
    s->drop_at = clock::now() + close_timeout;
    s->deadline_timer.cancel();  // wakes the watchdog: a new deadline
    start_writer(s);
}

asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    co_await write_pings_and_outbox(s);
    // The queue is drained: now the close frame, if close() asked for one. Beast then waits for
    // the client's close frame in the reader's pending read, which ends with error::closed.
    if (s->open && s->closing && !s->close_sent) {
        s->close_sent = true;
        co_await s->ws.async_close(s->closing, nothrow);
    }
    s->writer_running = false;
}

asio::awaitable<bool> join(std::shared_ptr<session_state> s, server_state& server)
{
    // The watchdog runs beside the session from the start: the handshake has a deadline too.
    s->drop_at = clock::now() + handshake_timeout;
    asio::co_spawn(s->ws.get_executor(), watchdog_with_pings(s), coropush::log_exceptions("watchdog"));
    bool const opened = co_await accept_handshake_in_time(s);
    if (!opened)
        co_return false;
    heard(*s);
    listen_for_pongs(*s, heard);
    server.sessions.insert(s);
    if (server.shutting_down)  // the signal came during our handshake
        close(s, websocket::close_code::going_away, "server shutting down");
    co_return true;
}

void leave(std::shared_ptr<session_state> const& s, server_state& server)
{
    end(*s);
    server.sessions.erase(s);
    say("session " + std::to_string(s->id) + ": closed");
}

int serve_until_signal(int argc, char** argv, session_function session)
{
    asio::io_context io;
    auto acceptor = listen(io.get_executor(), port_from_command_line(argc, argv));
    server_state server;
    auto start_session = [&server, run = std::move(session)](tcp::socket socket, std::uint64_t id) {
        return run(std::move(socket), id, server);
    };
    asio::co_spawn(io, accept_loop(acceptor, start_session), coropush::log_exceptions("accept loop"));
    asio::co_spawn(io, shut_down_on_signal(acceptor, server), coropush::log_exceptions("shutdown"));
    // Returns when there is no work left: the signal has come, the accept loop has returned and
    // the last session has ended.
    io.run();
    say("shut down cleanly");
    return 0;
}

}  // namespace ladder::graceful
