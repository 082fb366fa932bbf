// Step 2 of the ladder: a reader and a writer side by side.
//
// The idea: a session is two coroutines on one stream. The reader only reads: it answers a hello
// by leaving the welcome in the session's outbox, starts a small coroutine that leaves the notice
// there a second later, and goes straight back to reading. The writer only writes: it takes what
// is in the outbox, in order, and sleeps on a timer used as a signal while the outbox is empty.
// Beast allows one read and one write in flight at once, never two writes; with one writer there
// never are. (This is the shape of Asio's chat_server example.)
//
// What changed from step 1: the second hello is answered at once, while the first notice is
// pending (the test a_second_hello_is_answered_at_once_while_the_notice_is_pending).
//
// Where it is written: the writer here; the reader, and the answer to a hello (the welcome now,
// the notice from a coroutine asleep a second), in parts/reader.hpp, which step 3 uses as it is.
//
// What it leaves for step 3: the writer lives as long as the session, parked on its signal even
// when there is nothing to write; step 3 starts it only when there is.
//
//   build/default/examples/ladder/ladder-02-reader-and-writer 0     (0: any free port)
#include "ladder.hpp"
#include "parts/reader.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
using namespace asio::experimental::awaitable_operators;

// What the session's coroutines share. Each of them holds a shared_ptr to it, so it lives as long
// as the last of them, and none can touch a stream that is gone.
struct session_state {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : ws(std::move(socket)),
          writer_signal(ws.get_executor()),
          id(session_id)
    {
    }

    websocket::stream<tcp::socket> ws;
    std::deque<ladder::outbound_message> outbox;  // written in order, by the writer only
    // A timer used as a signal: it never expires by itself; cancel() wakes the writer.
    asio::steady_timer writer_signal;
    std::uint64_t const id;
    bool open = true;  // false once the reader has ended: nothing more is written
};

// Leaves a message for the writer, and wakes it.
void send(std::shared_ptr<session_state> const& s, ladder::outbound_message message)
{
    if (!s->open)
        return;
    s->outbox.push_back(std::move(message));
    s->writer_signal.cancel();
}

// Answers each message, never waiting for a write (parts/reader.hpp reads them, and answers a
// hello with a welcome now and a notice a second later). Ends when the connection does.
asio::awaitable<void> reader(std::shared_ptr<session_state> s)
{
    // The lambda is named before the co_await: GCC 12 destroys a lambda written inside a co_await
    // expression twice, and its copy of `s` with it, which frees the session while it is in use
    // (CONTRIBUTING.md, compiler pitfalls). Every later step names it too.
    auto const answer = [s](std::optional<ladder::request> const& hello) { ladder::answer_hello(s, hello); };
    co_await ladder::read_requests(*s, answer);
    s->open = false;
    s->writer_signal.cancel();  // the writer sees `open` is false and returns
}

// The only coroutine that writes to the stream: what is in the outbox, in order, one at a time.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    while (s->open) {
        if (s->outbox.empty()) {
            // Nothing to write: sleep until send() or the reader's end cancels the wait.
            s->writer_signal.expires_at(asio::steady_timer::time_point::max());
            co_await s->writer_signal.async_wait(nothrow);
            continue;
        }
        auto const message = s->outbox.front();  // this copy keeps it alive while it is written
        s->outbox.pop_front();
        // A failed write means the connection is gone; the reader learns it too and ends.
        auto [write_error, written] = co_await s->ws.async_write(asio::buffer(*message), nothrow);
        if (write_error)
            break;
    }
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    bool const opened = co_await ladder::accept_handshake(*s);  // as in step 1
    if (!opened)
        co_return;

    // The reader and the writer side by side; the session ends when both have ended.
    co_await (reader(s) && writer(s));
    ladder::say("session " + std::to_string(id) + ": closed");
}

}  // namespace

int main(int argc, char** argv)
{
    return ladder::serve(argc, argv, session);
}
