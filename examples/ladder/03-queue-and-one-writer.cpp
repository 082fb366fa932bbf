// Step 3 of the ladder: a queue and one writer, started when there is something to write.
//
// The idea: the outbox is a queue with one writer, and the writer exists only while there is
// something to write. send() queues a message and starts the writer if none is running; the
// writer writes until the queue is drained, then returns. There is still never more than one
// writer, so never more than one write in flight (Beast's rule), and an idle session is one
// coroutine, its reader: no parked writer, no signal timer. A server holds many idle sessions;
// this is the shape the real one has (src/net/websocket_session_impl.hpp, src/net/connection.hpp).
//
// Where it is written: parts/queue_and_writer.hpp (the session's stream and queue, send(),
// start_writer(), the writer), which every later step uses; here, the session put together.
//
// What it leaves for step 4: each notice is still a coroutine asleep on a timer of its own, and a
// client that connects and says nothing is kept forever. Step 4 turns both into deadlines.
//
//   build/default/examples/ladder/ladder-03-queue-and-one-writer 0     (0: any free port)
#include "ladder.hpp"
#include "parts/queue_and_writer.hpp"
#include "parts/reader.hpp"

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s

// What the session's coroutines share: the stream, its outbox and whether the writer is running
// (parts/queue_and_writer.hpp). A type of the step's own, so that its writer is found for it.
struct session_state : ladder::queued_session {
    using queued_session::queued_session;
};

// The session's writer, started by send() when none is running (parts/queue_and_writer.hpp): it
// writes what is in the outbox, in order, one at a time, and returns when the outbox is empty.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    return ladder::write_outbox(std::move(s));
}

// Answers each message, never waiting for a write (as in step 2). Ends when the connection does.
asio::awaitable<void> reader(std::shared_ptr<session_state> s)
{
    auto const answer = [s](std::optional<ladder::request> const& hello) { ladder::answer_hello(s, hello); };
    co_await ladder::read_requests(*s, answer);  // named first, as in step 2
    s->open = false;                             // a writer still running sees it after its write and returns
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    bool const opened = co_await ladder::accept_handshake(*s);  // as in step 1
    if (!opened)
        co_return;

    // The reader, and beside it the writer whenever send() starts one. The session object lives on
    // until the last of them (a writer finishing its write, a notice still asleep) has ended.
    co_await reader(s);
    ladder::say("session " + std::to_string(id) + ": closed");
}

}  // namespace

int main(int argc, char** argv)
{
    return ladder::serve(argc, argv, session);
}
