// Step 3 of the ladder: a queue and one writer, started when there is something to write.
//
// The idea: the outbox is a queue with one writer, and the writer exists only while there is
// something to write. send() queues a message and starts the writer if none is running; the
// writer writes until the queue is drained, then returns. There is still never more than one
// writer, so never more than one write in flight (Beast's rule), and an idle session is one
// coroutine, its reader: no parked writer, no signal timer. A server holds many idle sessions;
// this is the shape the real one has (src/net/websocket_session.cpp, src/net/connection.hpp).
//
// What it leaves for step 4: each notice is still a coroutine asleep on a timer of its own, and a
// client that connects and says nothing is kept forever. Step 4 turns both into deadlines.
//
//   build/default/examples/ladder/ladder-03-queue-and-one-writer 0     (0: any free port)
#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <deque>

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using ladder::nothrow;
using ladder::tcp;
using namespace std::chrono_literals;

constexpr auto notice_delay = 1s;

// What the session's coroutines share. Each of them holds a shared_ptr to it, so it lives as long
// as the last of them, and none can touch a stream that is gone.
struct session_state {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : ws(std::move(socket)),
          id(session_id)
    {
    }

    websocket::stream<tcp::socket> ws;
    std::deque<ladder::outbound_message> outbox;  // written in order, by the writer only
    bool writer_running = false;
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

// A second after a hello, the notice. While this coroutine sleeps the reader goes on reading.
asio::awaitable<void> notice_later(std::shared_ptr<session_state> s)
{
    asio::steady_timer timer(s->ws.get_executor(), notice_delay);
    co_await timer.async_wait(nothrow);
    send(s, ladder::make_message("notice", {}, {{"text", "one second after your hello"}}));
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
        auto const hello = ladder::take_request(buffer);
        if (!hello || hello->type != "hello") {
            send(s, ladder::make_error(hello, "expected a hello"));
            continue;
        }
        send(s, ladder::make_message("welcome", hello->id, {{"text", "welcome!"}}));
        asio::co_spawn(s->ws.get_executor(), notice_later(s), coropush::log_exceptions("notice"));
    }
    s->open = false;  // a writer still running sees it after its write and returns
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
    // Waits for the client's upgrade request and answers it (101 Switching Protocols).
    auto [handshake_error] = co_await s->ws.async_accept(nothrow);
    if (handshake_error)
        co_return;
    ladder::say("session " + std::to_string(id) + ": opened");

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
