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
// What it leaves for step 5: a client with nothing to say is not necessarily gone. Step 5 asks it
// (a ping) and drops it only if it does not answer.
//
//   build/default/examples/ladder/ladder-04-deadlines 0     (0: any free port)
#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using ladder::nothrow;
using ladder::tcp;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr auto notice_delay = 1s;
constexpr auto handshake_timeout = 1s;
constexpr auto idle_timeout = 2s;

// What the session's coroutines share. Each of them holds a shared_ptr to it, so it lives as long
// as the last of them, and none can touch a stream that is gone.
struct session_state {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : ws(std::move(socket)),
          deadline_timer(ws.get_executor()),
          id(session_id)
    {
    }

    websocket::stream<tcp::socket> ws;
    std::deque<ladder::outbound_message> outbox;  // written in order, by the writer only
    bool writer_running = false;
    // The deadlines: pushes and when they are due; when the client is dropped unless it speaks
    // (the handshake's limit, then the idle limit); and the watchdog's one timer.
    std::multimap<clock::time_point, ladder::outbound_message> scheduled;
    clock::time_point drop_at = clock::time_point::max();
    asio::steady_timer deadline_timer;
    std::uint64_t const id;
    bool open = true;  // false once the reader has ended: nothing more is written
};

asio::awaitable<void> writer(std::shared_ptr<session_state> s);

// Starts the writer, unless it is running already (then it will get to what was queued).
void start_writer(std::shared_ptr<session_state> const& s)
{
    if (s->writer_running)
        return;
    s->writer_running = true;
    asio::co_spawn(s->ws.get_executor(), writer(s), coropush::log_exceptions("writer"));
}

// Queues a message for the writer.
void send(std::shared_ptr<session_state> const& s, ladder::outbound_message message)
{
    if (!s->open)
        return;
    s->outbox.push_back(std::move(message));
    start_writer(s);
}

// Puts a message on the schedule; the watchdog sends it when it is due.
void schedule(std::shared_ptr<session_state> const& s, clock::time_point when, ladder::outbound_message message)
{
    s->scheduled.emplace(when, std::move(message));
    s->deadline_timer.cancel();  // wakes the watchdog: this may come before what it sleeps until
}

// The connection is dropped: its socket closed, so the pending handshake or read fails and the
// session ends as if the client had gone.
void drop(session_state& s, std::string const& why)
{
    ladder::say("session " + std::to_string(s.id) + ": dropped: " + why);
    beast::error_code ignored;
    s.ws.next_layer().close(ignored);
}

// The session is over: nothing more is written, and the watchdog returns.
void end(session_state& s)
{
    s.open = false;  // a writer still running sees it after its write and returns
    s.deadline_timer.cancel();
}

clock::time_point next_deadline(session_state const& s)
{
    auto next = s.drop_at;
    if (!s.scheduled.empty())
        next = std::min(next, s.scheduled.begin()->first);
    return next;
}

// Keeps the session's deadlines with one timer: sleeps until the earliest, does what is due.
asio::awaitable<void> watchdog(std::shared_ptr<session_state> s)
{
    while (s->open) {
        s->deadline_timer.expires_at(next_deadline(*s));
        // Ends at the deadline, or early when the timer is cancelled (an earlier deadline was set,
        // or the session ended): either way, look at what is due now.
        co_await s->deadline_timer.async_wait(nothrow);
        auto const now = clock::now();
        while (s->open && !s->scheduled.empty() && s->scheduled.begin()->first <= now) {
            send(s, s->scheduled.begin()->second);
            s->scheduled.erase(s->scheduled.begin());
        }
        if (s->open && now >= s->drop_at) {
            drop(*s, "no word from the client in time");
            break;
        }
    }
}

// Awaits each message and answers it, never waiting for a write. Ends when the connection does.
asio::awaitable<void> reader(std::shared_ptr<session_state> s)
{
    beast::flat_buffer buffer;
    for (;;) {
        // Waits for the next whole message. An error is the end of the session: the client
        // closed (Beast has answered its close frame) or the connection is gone.
        auto [read_error, read] = co_await s->ws.async_read(buffer, nothrow);
        if (read_error)
            break;
        s->drop_at = clock::now() + idle_timeout;  // the client spoke: it has another idle_timeout
        auto const hello = ladder::take_request(buffer);
        if (!hello || hello->type != "hello") {
            send(s, ladder::make_error(hello, "expected a hello"));
            continue;
        }
        send(s, ladder::make_message("welcome", hello->id, {{"text", "welcome!"}}));
        schedule(s, clock::now() + notice_delay,
                 ladder::make_message("notice", {}, {{"text", "one second after your hello"}}));
    }
    end(*s);
}

// The only coroutine that writes to the stream: what is in the outbox, in order, one at a time.
// It returns when the outbox is empty; the next send() starts it again.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    while (s->open && !s->outbox.empty()) {
        auto const message = s->outbox.front();  // this copy keeps it alive while it is written
        s->outbox.pop_front();
        // A failed write means the connection is gone; the reader learns it too and ends.
        auto [write_error, written] = co_await s->ws.async_write(asio::buffer(*message), nothrow);
        if (write_error)
            break;
    }
    s->writer_running = false;
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    // The watchdog runs beside the session from the start: the handshake has a deadline too.
    s->drop_at = clock::now() + handshake_timeout;
    asio::co_spawn(s->ws.get_executor(), watchdog(s), coropush::log_exceptions("watchdog"));

    // Waits for the client's upgrade request and answers it (101 Switching Protocols).
    auto [handshake_error] = co_await s->ws.async_accept(nothrow);
    if (handshake_error) {
        end(*s);
        co_return;
    }
    ladder::say("session " + std::to_string(id) + ": opened");
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
