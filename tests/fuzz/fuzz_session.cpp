// libFuzzer target: the server's whole network input path. Each input is the byte stream a
// client sends on one connection (HTTP request, upgrade, WebSocket frames); it is fed into a
// real session coroutine over a socket pair (an upgrade request first, the frames once the
// server has answered it), with the client's side then half-closed, and the session runs until
// it ends. A crash, a sanitizer report, or a session that never ends (the libFuzzer -timeout) is
// a finding; so is a text frame (or close reason) from the server that is not UTF-8, which a
// browser treats as a fatal protocol error, and so is a byte stream that is not a clean sequence
// of frames: the session writes through the batching layer (net/batching_stream.hpp), which
// gathers frames, Beast's pongs and close replies, and the 1002 refusal into shared writes: they
// must stay whole frames in a legal order, and nothing may follow the close frame.
#include "net/session.hpp"
#include "server/server_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

coropush::server_options fuzz_options()
{
    coropush::server_options o;
    o.web_root = COROPUSH_FUZZ_WEB_ROOT;
    o.log = coropush::log_level::off;
    o.push_delay = 0ms;
    o.ping_interval = 0ms;
    o.handshake_timeout = 1s;
    o.close_timeout = 100ms;
    o.echo_path = "/echo";
    o.max_message_bytes = 4096;
    o.echo_max_message_bytes = std::size_t{64} * 1024;
    o.max_jobs_total = 4;
    o.job_step_time = 0ms;
    o.job_retention = 0ms;
    return o;
}

void check(bool condition)
{
    if (!condition)
        std::abort();
}

// One WebSocket frame the server sent.
struct server_frame {
    bool fin;
    std::uint8_t rsv;  // the three reserved bits: no extension is negotiated, so always 0
    std::uint8_t opcode;
    std::string_view payload;
};

// The frames in what the server sent after its 101 response. Before the 101 there are only HTTP
// responses (fixed texts and the files of web/, none of which holds a 101 status line); after it
// only frames, unmasked (RFC 6455 5.1). A frame cut short (the connection dropped) ends the list.
std::vector<server_frame> frames_after_upgrade(std::string_view said)
{
    std::vector<server_frame> frames;
    auto const status = said.find("HTTP/1.1 101 ");
    auto const head_end = said.find("\r\n\r\n", status);
    if (status == std::string_view::npos || head_end == std::string_view::npos)
        return frames;
    auto rest = said.substr(head_end + 4);
    auto const byte = [&](std::size_t i) { return static_cast<std::uint8_t>(rest[i]); };
    while (rest.size() >= 2) {
        check((byte(1) & 0x80) == 0);  // a server never masks
        std::uint64_t length = byte(1) & 0x7F;
        std::size_t header = 2;
        if (length == 126) {
            header = 4;
        } else if (length == 127) {
            header = 10;
        }
        if (rest.size() < header)
            break;
        if (header > 2) {
            length = 0;
            for (std::size_t i = 2; i < header; ++i)
                length = (length << 8) | byte(i);
        }
        if (rest.size() - header < length)
            break;
        frames.push_back({(byte(0) & 0x80) != 0, static_cast<std::uint8_t>(byte(0) & 0x70),
                          static_cast<std::uint8_t>(byte(0) & 0x0F),
                          rest.substr(header, static_cast<std::size_t>(length))});
        rest.remove_prefix(header + static_cast<std::size_t>(length));
    }
    return frames;
}

bool is_utf8(std::string_view text)
{
    // Beast's checker: the one the server applies to what clients send (an independent oracle for
    // the code that built the text).
    return boost::beast::websocket::detail::check_utf8(text.data(), text.size());
}

// Every text message and every close reason the server sent is UTF-8.
void check_server_text(std::string_view said)
{
    std::string message;  // a text message, across its continuation frames
    bool in_text = false;
    for (auto const& frame : frames_after_upgrade(said)) {
        if (frame.opcode == 1) {
            message = frame.payload;
            in_text = true;
        } else if (frame.opcode == 0 && in_text) {
            message += frame.payload;
        } else if (frame.opcode == 8 && frame.payload.size() > 2) {
            check(is_utf8(frame.payload.substr(2)));
        }
        if (in_text && frame.fin && (frame.opcode == 1 || frame.opcode == 0)) {
            check(is_utf8(message));
            in_text = false;
        }
    }
}

// The frames are whole and in a legal order (RFC 6455 5.2, 5.4, 5.5): known opcodes, no reserved
// bits, control frames unfragmented and at most 125 bytes, a fragmented message continued only by
// continuation frames (control frames may come between), and nothing after the close frame.
void check_frame_sequence(std::string_view said)
{
    bool in_message = false;
    bool closed = false;
    for (auto const& frame : frames_after_upgrade(said)) {
        check(!closed);
        check(frame.rsv == 0);
        bool const control = (frame.opcode & 0x08) != 0;
        if (control) {
            check(frame.opcode == 8 || frame.opcode == 9 || frame.opcode == 10);
            check(frame.fin && frame.payload.size() <= 125);
            closed = frame.opcode == 8;
            continue;
        }
        check(frame.opcode <= 2);
        check(in_message == (frame.opcode == 0));  // a continuation exactly when a message is open
        in_message = !frame.fin;
    }
}

// How much of the input to send before waiting for the server's answer: a client sends nothing
// after an upgrade request until the 101 has come (RFC 6455 4.1; the server answers bytes that
// come early with 400), so an input whose first request asks for an upgrade goes in two parts.
// Any other input goes at once, pipelined requests and all.
std::size_t first_part_size(std::string_view input)
{
    auto const head_end = input.find("\r\n\r\n");
    if (head_end == std::string_view::npos)
        return input.size();
    constexpr std::string_view upgrade = "\r\nupgrade:";
    auto const head = input.substr(0, head_end + 2);
    auto const found = std::search(head.begin(), head.end(), upgrade.begin(), upgrade.end(),
                                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return found == head.end() ? input.size() : head_end + 4;
}

struct fixture {
    fixture()
        : state(std::make_shared<coropush::server_state>(io, fuzz_options(), nullptr))
    {
        coropush::logger::set_level(coropush::log_level::off);
    }
    asio::io_context io;
    std::shared_ptr<coropush::server_state> state;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    static fixture f;  // one server for the whole run, as in production
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        std::abort();

    // The server's end, as the session's socket (the session only reads and writes it).
    auto const shard = f.state->shards.next();
    asio::ip::tcp::socket server_side(f.state->shards.executor(shard));
    server_side.assign(asio::ip::tcp::v4(), fds[0]);
    asio::local::stream_protocol::socket client_side(f.io);
    client_side.assign(asio::local::stream_protocol(), fds[1]);

    bool session_done = false;
    bool client_done = false;
    asio::co_spawn(f.state->shards.executor(shard),
                   coropush::net::run_session(std::move(server_side), f.state, shard, f.state->take_http_slot()),
                   [&](std::exception_ptr e) {
                       if (e)
                           std::abort();  // the session's edge must not throw on any input
                       session_done = true;
                   });

    // The client: send the input (an upgrade request first, the rest once the answer has come),
    // half-close, and keep everything the server says until it closes.
    std::string const input(reinterpret_cast<char const*>(data), size);
    std::string said;
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            std::array<char, 8192> sink{};
            auto const read_some = [&]() -> asio::awaitable<bool> {
                auto const n = co_await client_side.async_read_some(asio::buffer(sink),
                                                                    asio::redirect_error(asio::use_awaitable, ec));
                said.append(sink.data(), n);
                co_return !ec;
            };
            auto const first = first_part_size(input);
            co_await asio::async_write(client_side, asio::buffer(input.data(), first),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (first < input.size()) {
                while (said.find("\r\n\r\n") == std::string::npos && co_await read_some()) {
                }
                co_await asio::async_write(client_side, asio::buffer(input.data() + first, input.size() - first),
                                           asio::redirect_error(asio::use_awaitable, ec));
            }
            client_side.shutdown(asio::socket_base::shutdown_send, ec);
            while (co_await read_some()) {
            }
        },
        [&](std::exception_ptr) { client_done = true; });

    // Run until this connection is over; jobs the input started keep running in later iterations.
    // (An io_context that ran out of work in an earlier iteration must be restarted first.)
    f.io.restart();
    while (!(session_done && client_done))
        if (f.io.run_one() == 0)
            std::abort();  // nothing left to run, yet the session has not ended: a hang
    check_server_text(said);
    check_frame_sequence(said);
    return 0;
}
