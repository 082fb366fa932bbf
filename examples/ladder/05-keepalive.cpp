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
// Where it is written: parts/keepalive.hpp (the ping's deadline, the watchdog that keeps it, the
// writer's ping, hearing a pong), which every later step uses; here, what counts as hearing from
// the client, and the session put together.
//
// What it leaves for step 6: the server never ends a session politely (it drops connections) and
// stops only when killed. Step 6 closes every session with a close frame on SIGTERM, then exits.
//
//   build/default/examples/ladder/ladder-05-keepalive 0     (0: any free port)
#include "ladder.hpp"
#include "parts/deadline.hpp"
#include "parts/keepalive.hpp"
#include "parts/queue_and_writer.hpp"
#include "parts/reader.hpp"

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
using ladder::clock;

// What the session's coroutines share: step 4's, and the pings (parts/keepalive.hpp).
struct session_state : ladder::queued_session, ladder::deadlines, ladder::pings {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : queued_session(std::move(socket), session_id),
          deadlines(ws.get_executor())
    {
    }
};

// The client said something (a message, a pong): it is there. The next ping is due after
// ping_interval of silence, and no ping waits for an answer.
void heard(session_state& s)
{
    s.ping_at = clock::now() + ladder::ping_interval;
    s.drop_at = clock::time_point::max();
}

// The session's writer: step 3's, with a ping first when the watchdog asks for one.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    co_await ladder::write_pings_and_outbox(s);
    s->writer_running = false;
}

// Answers each message, never waiting for a write, as in step 4; any message is heard.
asio::awaitable<void> reader(std::shared_ptr<session_state> s)
{
    auto const answer = [s](std::optional<ladder::request> const& hello) {
        heard(*s);
        ladder::answer_hello_on_schedule(s, hello);
    };
    co_await ladder::read_requests(*s, answer);  // named first, as in step 2
    ladder::end(*s);                             // nothing more is written, and the watchdog returns
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    // The watchdog, as in step 4, now also asks for a ping after a silence (parts/keepalive.hpp).
    s->drop_at = clock::now() + ladder::handshake_timeout;
    asio::co_spawn(s->ws.get_executor(), ladder::watchdog_with_pings(s), coropush::log_exceptions("watchdog"));

    bool const opened = co_await ladder::accept_handshake_in_time(s);
    if (!opened)
        co_return;
    heard(*s);
    ladder::listen_for_pongs(*s, heard);  // a pong is heard too

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
