// Step 1 of the ladder: the seed, as one coroutine per connection.
//
// The idea: a session is a coroutine you read top to bottom. It owns its connection (the socket
// comes in by value, so the coroutine frame holds it) and awaits one thing at a time: the
// handshake, a message, the reply being written, a timer.
//
// What it does (every later step does it too): to {"type":"hello","id":1} it answers
// {"type":"welcome","id":1,...} at once, and one second later pushes {"type":"notice",...}.
//
// What it leaves for step 2: while the coroutine sleeps on the notice's timer it is there and
// nowhere else, so nothing reads. A second hello sent during that second waits unread in the
// socket, and its welcome comes only after the first notice (the test
// a_second_hello_is_answered_only_after_the_first_notice shows it). Step 2 reads and writes in two
// coroutines side by side.
//
//   build/default/examples/ladder/ladder-01-one-coroutine 0     (0: any free port)
#include "ladder.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
using ladder::notice_delay;     // 1s

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id)
{
    websocket::stream<tcp::socket> ws(std::move(socket));
    // Waits for the client's upgrade request and answers it (101 Switching Protocols).
    auto [handshake_error] = co_await ws.async_accept(nothrow);
    if (handshake_error)
        co_return;
    ladder::say("session " + std::to_string(id) + ": opened");

    beast::flat_buffer buffer;
    asio::steady_timer timer(ws.get_executor());
    for (;;) {
        // Waits for the next whole message. An error is the end of the session: the client
        // closed (Beast has answered its close frame) or the connection is gone.
        auto [read_error, read] = co_await ws.async_read(buffer, nothrow);
        if (read_error)
            break;
        auto const hello = ladder::take_request(buffer);
        if (!hello || hello->type != "hello") {
            auto const error = ladder::make_error(hello, "expected a hello");
            co_await ws.async_write(asio::buffer(*error), nothrow);
            continue;
        }

        // Waits until the welcome is written (handed to the kernel). A failed write means the
        // connection is gone; the next read says so too.
        auto const welcome = ladder::make_message("welcome", hello->id, {{"text", "welcome!"}});
        co_await ws.async_write(asio::buffer(*welcome), nothrow);

        // The one-second wait. This coroutine is the whole session, and for this second it is
        // here: nothing reads, so a second hello waits in the socket until the notice is out.
        timer.expires_after(notice_delay);
        co_await timer.async_wait(nothrow);

        auto const notice = ladder::make_message("notice", {}, {{"text", "one second after your hello"}});
        co_await ws.async_write(asio::buffer(*notice), nothrow);
    }
    ladder::say("session " + std::to_string(id) + ": closed");
}

}  // namespace

int main(int argc, char** argv)
{
    return ladder::serve(argc, argv, session);
}
