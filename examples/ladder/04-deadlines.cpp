// Step 4 of the ladder: timers as deadlines.
//
// The idea: a time limit or a timed push is a deadline, a point in time kept in the session's
// state, and one coroutine beside the session, its watchdog, keeps them all with one timer: it
// sleeps until the earliest, does what is due, and sleeps again. Setting an earlier deadline wakes
// it (the timer is cancelled) so it can look again. Asio 1.26 has no cancel_after: a steady_timer
// and a coroutine are how deadlines are built.
//
// What changed from step 3: the notice is an entry on the session's schedule, not a coroutine
// asleep per hello; and there are time limits. The handshake must be done within a second of
// connecting, and a client that sends nothing for two seconds is dropped. The watchdog drops a
// connection by closing its socket, which fails the reader's pending read. It never cancels that
// read to do anything else: in Boost 1.81, cancelling a WebSocket read closes the stream.
//
// Where it is written: parts/deadline.hpp (the deadlines, the schedule, the watchdog, drop()),
// which every later step uses; here, the idle limit and the session put together.
//
// What it leaves for step 5: a client with nothing to say is not necessarily gone. Step 5 asks it
// (a ping) and drops it only if it does not answer.
//
//   build/default/examples/ladder/ladder-04-deadlines 0     (0: any free port)
#include "ladder.hpp"
#include "parts/deadline.hpp"
#include "parts/queue_and_writer.hpp"
#include "parts/reader.hpp"

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
using ladder::clock;

constexpr auto idle_timeout = 2s;

// What the session's coroutines share: step 3's, and the deadlines (parts/deadline.hpp).
struct session_state : ladder::queued_session, ladder::deadlines {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : queued_session(std::move(socket), session_id),
          deadlines(ws.get_executor())
    {
    }
};

// The session's writer: step 3's, as it is.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    return ladder::write_outbox(std::move(s));
}

// Answers each message, never waiting for a write. A hello's notice is now an entry on the
// schedule (parts/deadline.hpp), not a coroutine asleep; any message puts off the idle limit.
asio::awaitable<void> reader(std::shared_ptr<session_state> s)
{
    auto const answer = [s](std::optional<ladder::request> const& hello) {
        s->drop_at = clock::now() + idle_timeout;  // the client spoke: it has another idle_timeout
        ladder::answer_hello_on_schedule(s, hello);
    };
    co_await ladder::read_requests(*s, answer);  // named first, as in step 2
    ladder::end(*s);                             // nothing more is written, and the watchdog returns
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    // The watchdog runs beside the session from the start: the handshake has a deadline too. It
    // keeps every deadline with one timer, and drops the client by closing its socket.
    s->drop_at = clock::now() + ladder::handshake_timeout;
    asio::co_spawn(s->ws.get_executor(), ladder::watchdog(s), coropush::log_exceptions("watchdog"));

    // Waits for the client's upgrade request and answers it; a failure ends the session.
    bool const opened = co_await ladder::accept_handshake_in_time(s);
    if (!opened)
        co_return;
    s->drop_at = clock::now() + idle_timeout;

    // The reader, and beside it the watchdog and, whenever send() starts one, the writer. The
    // session object lives on until the last of them has ended.
    co_await reader(s);
    ladder::say("session " + std::to_string(id) + ": closed");
}

}  // namespace

int main(int argc, char** argv)
{
    return ladder::serve(argc, argv, session);
}
