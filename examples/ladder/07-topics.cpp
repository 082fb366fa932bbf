// Step 7 of the ladder: topics, with fan-out to many sessions.
//
// The idea: sessions talk to each other through topics. {"type":"subscribe","data":{"topic":"t"}}
// puts the session in the topic's set of subscribers; {"type":"publish","data":{"topic":"t",
// "text":"..."}} queues a message on every subscriber's outbox. The message is serialized once,
// and every queue holds the same immutable buffer (an outbound_message, a shared_ptr): a publish
// to ten thousand sessions is one string, not ten thousand. Each subscriber's own writer then
// writes it when it gets to it, so a slow subscriber delays no one but itself.
//
// What changed from step 6: the reader handles three kinds of request, and a session that ends
// leaves its topics. Subscribe and publish are in parts/topics.hpp and parts/topics.cpp, which
// step 8 uses as they are.
//
// What it leaves for step 8: every reply is immediate. Step 8 starts a job that runs beside the
// session and reports its progress over time.
//
//   build/default/examples/ladder/ladder-07-topics 0     (0: any free port; Ctrl-C stops it)
#include "ladder.hpp"
#include "parts/reader.hpp"
#include "parts/shutdown.hpp"
#include "parts/topics.hpp"

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
namespace graceful = ladder::graceful;
using graceful::server_state;
using graceful::session_state;

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id, server_state& server,
                              ladder::topic_registry& topics)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    bool const joined = co_await graceful::join(s, server);  // as in step 6
    if (!joined)
        co_return;

    // The reader: a hello as before, and now subscribe and publish (parts/topics.cpp).
    auto const on_request = [s, &topics](std::optional<ladder::request> const& request) {
        graceful::heard(*s);
        ladder::answer(s, topics, request);
    };
    co_await ladder::read_requests(*s, on_request);  // named first, as in step 2
    ladder::leave_topics(s, topics);
    graceful::leave(s, server);
}

}  // namespace

int main(int argc, char** argv)
{
    ladder::topic_registry topics;  // every session's topics: main owns them, and they outlive io.run()
    return graceful::serve_until_signal(argc, argv,
                                        [&topics](tcp::socket socket, std::uint64_t id, server_state& server) {
                                            return session(std::move(socket), id, server, topics);
                                        });
}
