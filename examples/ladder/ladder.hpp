// What every step of the ladder shares and none of them teaches: the command line, the listening
// socket and its accept loop, a line of output, and the tiny JSON message format.
//
// The messages are the server's envelope (docs/protocol.md), in a small subset:
//   client: {"type":"hello","id":1}                 (also subscribe, publish, job_start: steps 7, 8)
//   server: {"type":"welcome","id":1,"data":{...}}  a reply carries the id of its request
//           {"type":"notice","data":{...}}          a push carries none
//
// Every step runs its io_context on one thread. One thread never runs two handlers at once, so a
// session's coroutines (and, from step 6, all the sessions) share their state without locks; the
// real server runs several threads and gets the same guarantee from a strand per io thread, each
// running the sessions placed on it.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::beast::websocket {
}

namespace ladder {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Expected outcomes (the peer left, a timer was cancelled) come back as an error code to test with
// `if`, not as an exception: as_tuple turns a completion (error_code, result) into a tuple.
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The names every step uses, brought in by one `using namespace ladder::names;`.
namespace names {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using ladder::nothrow;
using ladder::tcp;
using namespace std::chrono_literals;
}  // namespace names

using clock = std::chrono::steady_clock;

// What every step does: to a hello, a welcome at once, and a notice this long after it.
constexpr std::chrono::seconds notice_delay{1};

// --- The process --------------------------------------------------------------------------------

// The port to listen on: the first argument, 0 (or none) to let the OS choose one.
std::uint16_t port_from_command_line(int argc, char** argv);

// Writes one line to stdout at once (tests wait for lines, so none may sit in a buffer).
void say(std::string_view line);

// Listens on 127.0.0.1:port and says "listening on 127.0.0.1:PORT", the first line of output.
tcp::acceptor listen(asio::any_io_executor executor, std::uint16_t port);

// A session: a coroutine that owns its connection's socket; `id` numbers the connections from 1.
using session_function = std::function<asio::awaitable<void>(tcp::socket socket, std::uint64_t id)>;

// Accepts connections until the acceptor is closed, starting `session` on each as a coroutine of
// its own, so that one slow connection never holds up the next.
asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, session_function session);

// The main of steps 1 to 5: listen, accept, run until killed. Step 6 writes its own, with signals.
int serve(int argc, char** argv, session_function session);

// --- The messages -------------------------------------------------------------------------------

// A message from a client.
struct request {
    std::string type;
    std::optional<std::uint64_t> id;
    boost::json::object data;
};

// The request in `buffer` (a whole message, which is then consumed), or nothing when it is not
// one: not JSON, or no "type".
std::optional<request> take_request(boost::beast::flat_buffer& buffer);

// A field of the request's data: "" or `fallback` when it is missing or of another kind.
std::string string_field(request const& r, std::string_view name);
std::uint64_t number_field(request const& r, std::string_view name, std::uint64_t fallback);

// A message on its way out, serialized once. Shared and immutable: a queue (step 2 on), the writer
// in the middle of writing it, and from step 7 many subscribers' queues hold the same one.
using outbound_message = std::shared_ptr<std::string const>;

outbound_message make_message(std::string_view type, std::optional<std::uint64_t> id, boost::json::object data = {});

// The reply to a request the step does not know: {"type":"error","id":...,"data":{"message":...}}.
outbound_message make_error(std::optional<request> const& r, std::string_view message);

}  // namespace ladder
