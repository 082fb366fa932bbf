// Step 6 of the ladder: graceful shutdown.
//
// The idea: on SIGINT or SIGTERM the server stops accepting, and closes every session politely:
// what is queued is written, then a close frame with 1001 (going away); the client answers with
// its own close frame, which ends the session's read. A client that takes longer than two seconds
// is dropped. When the last session has ended the io_context runs out of work, io.run() returns
// and the process exits 0. To reach every session the server now keeps a set of them, in a
// server_state that main owns.
//
// What changed from step 5: a session can end with a close frame (close()), written by the writer
// after everything queued before it; and main waits for a signal. From here on the session no
// longer changes, so all of it is in parts/shutdown.hpp and parts/shutdown.cpp (compiled once,
// with the parts of steps 3 to 5), which steps 7 and 8 use as they are; this file is the session
// coroutine.
//
// What it leaves for step 7: sessions live side by side but never talk to each other. Step 7 lets
// a client publish to the sessions subscribed to a topic.
//
//   build/default/examples/ladder/ladder-06-graceful-shutdown 0     (0: any free port; Ctrl-C stops it)
#include "ladder.hpp"
#include "parts/deadline.hpp"
#include "parts/reader.hpp"
#include "parts/shutdown.hpp"

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
namespace graceful = ladder::graceful;
using graceful::server_state;
using graceful::session_state;

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id, server_state& server)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    // The watchdog, the handshake under its deadline and keep-alive, as in step 5; then the
    // session joins the server's set, where a shutdown finds it to close it (parts/shutdown.cpp).
    bool const joined = co_await graceful::join(s, server);
    if (!joined)
        co_return;

    // The reader, as in step 5, and beside it the watchdog and, whenever send() or close() starts
    // one, the writer. The session object lives on until the last of them has ended.
    auto const answer = [s](std::optional<ladder::request> const& hello) {
        graceful::heard(*s);
        ladder::answer_hello_on_schedule(s, hello);
    };
    co_await ladder::read_requests(*s, answer);  // named first, as in step 2
    graceful::leave(s, server);                  // out of the server's set
}

}  // namespace

int main(int argc, char** argv)
{
    // Listens and accepts as before, and on SIGINT or SIGTERM closes every session with 1001;
    // returns once the last one has ended.
    return graceful::serve_until_signal(argc, argv, session);
}
