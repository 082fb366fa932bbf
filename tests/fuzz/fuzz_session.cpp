// libFuzzer target: the server's whole network input path. Each input is the byte stream a
// client sends on one connection (HTTP request, upgrade, WebSocket frames); it is fed into a
// real session coroutine over a socket pair, with the client's side then half-closed, and the
// session runs until it ends. A crash, a sanitizer report, or a session that never ends (the
// libFuzzer -timeout) is a finding.
#include "net/server_state.hpp"
#include "net/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>

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

struct fixture {
    fixture()
        : state(std::make_shared<coropush::net::server_state>(io, fuzz_options(), nullptr))
    {
        coropush::logger::set_level(coropush::log_level::off);
    }
    asio::io_context io;
    std::shared_ptr<coropush::net::server_state> state;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    static fixture f;  // one server for the whole run, as in production
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        std::abort();

    // The server's end, as the session's socket (the session only reads and writes it).
    asio::ip::tcp::socket server_side(f.io);
    server_side.assign(asio::ip::tcp::v4(), fds[0]);
    asio::local::stream_protocol::socket client_side(f.io);
    client_side.assign(asio::local::stream_protocol(), fds[1]);

    bool session_done = false;
    bool client_done = false;
    asio::co_spawn(asio::make_strand(f.io), coropush::net::run_session(std::move(server_side), f.state),
                   [&](std::exception_ptr e) {
                       if (e)
                           std::abort();  // the session's edge must not throw on any input
                       session_done = true;
                   });

    // The client: send the input, half-close, and read everything the server says until it closes.
    std::string const input(reinterpret_cast<char const*>(data), size);
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            boost::system::error_code ec;
            co_await asio::async_write(client_side, asio::buffer(input), asio::redirect_error(asio::use_awaitable, ec));
            client_side.shutdown(asio::socket_base::shutdown_send, ec);
            std::array<char, 8192> sink{};
            for (;;) {
                co_await client_side.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
                if (ec)
                    break;
            }
        },
        [&](std::exception_ptr) { client_done = true; });

    // Run until this connection is over; jobs the input started keep running in later iterations.
    // (An io_context that ran out of work in an earlier iteration must be restarted first.)
    f.io.restart();
    while (!(session_done && client_done))
        if (f.io.run_one() == 0)
            std::abort();  // nothing left to run, yet the session has not ended: a hang
    return 0;
}
