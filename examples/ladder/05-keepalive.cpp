// Step 5 of the ladder: keep-alive.
//
// The idea: a client that has said nothing for a while is asked whether it is still there. After
// a second of silence the server sends a ping; the WebSocket layer on the other side answers it
// with a pong by itself (Beast does inside a pending read, a browser always does). Anything heard,
// a message or a pong, proves the client is there; one that does not answer within a second is
// dropped. The ping is written by the writer, like every frame: one writer keeps them in order.
//
// What changed from step 4: a client is no longer dropped for being quiet, only for not answering.
//
// What it leaves for step 6: the server never ends a session politely (it drops connections) and
// stops only when killed. Step 6 closes every session with a close frame on SIGTERM, then exits.
//
//   build/default/examples/ladder/ladder-05-keepalive 0     (0: any free port)
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
#include <utility>

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
constexpr auto ping_interval = 1s;  // of silence before a ping
constexpr auto ping_timeout = 1s;   // for the answer

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
    bool ping_requested = false;  // the writer sends a ping before the next message
    // The deadlines: pushes and when they are due; when the next ping is due; when the client is
    // dropped unless it speaks (the handshake's limit, then a ping's); and the watchdog's timer.
    std::multimap<clock::time_point, ladder::outbound_message> scheduled;
    clock::time_point ping_at = clock::time_point::max();
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

// The client said something (a message, a pong): it is there. The next ping is due after
// ping_interval of silence, and no ping waits for an answer.
void heard(session_state& s)
{
    s.ping_at = clock::now() + ping_interval;
    s.drop_at = clock::time_point::max();
}

// The session is over: nothing more is written, and the watchdog returns.
void end(session_state& s)
{
    s.open = false;  // a writer still running sees it after its write and returns
    s.deadline_timer.cancel();
}

clock::time_point next_deadline(session_state const& s)
{
    auto next = std::min(s.ping_at, s.drop_at);
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
        if (s->open && now >= s->ping_at) {
            // Silence: ask. The answer (or any message) calls heard(), which lifts drop_at again.
            ladder::say("session " + std::to_string(s->id) + ": ping");
            s->ping_requested = true;
            start_writer(s);
            s->ping_at = clock::time_point::max();
            s->drop_at = now + ping_timeout;
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
        heard(*s);
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
    while (s->open && (s->ping_requested || !s->outbox.empty())) {
        if (std::exchange(s->ping_requested, false)) {
            auto [ping_error] = co_await s->ws.async_ping({}, nothrow);
            if (ping_error)
                break;
            continue;
        }
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
    heard(*s);
    // Called by Beast inside the pending read when a control frame arrives. It refers to the state
    // (which owns the stream, which owns the callback) without owning it: no cycle.
    s->ws.control_callback([&state = *s](websocket::frame_type kind, beast::string_view) {
        if (kind != websocket::frame_type::pong)
            return;
        ladder::say("session " + std::to_string(state.id) + ": pong");
        heard(state);
    });

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
