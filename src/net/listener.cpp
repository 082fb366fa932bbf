// Accepting connections, each onto a shard of the server's (one per io thread), round-robin.
#include "net/listener.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "net/session.hpp"
#include "net/session_context.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <utility>

namespace coropush::net {
namespace asio = boost::asio;

asio::awaitable<void> listen(std::shared_ptr<session_context> server)
{
    bool paused = false;
    for (;;) {
        // --max-http-connections: while that many connections are still in their HTTP part (a
        // flood of clients that send nothing, or trickle), new ones wait in the kernel's backlog
        // rather than each taking memory here. Checked every 10 ms while full, which only an
        // overload makes it.
        while (server->http_slots_full() && !server->stopped()) {
            if (!std::exchange(paused, true)) {
                server->stats.accepting_paused.store(1, std::memory_order_relaxed);
                log_warn(0, server->http_connections(),
                         " connections not yet upgraded (--max-http-connections): accepting paused");
            }
            asio::steady_timer pause(server->control, std::chrono::milliseconds(10));
            co_await pause.async_wait(nothrow);
        }
        if (std::exchange(paused, false)) {
            server->stats.accepting_paused.store(0, std::memory_order_relaxed);
            log_info(0, "accepting again");
        }
        // Each connection lives on one shard (server_shards.hpp: a strand per io thread, none
        // needed on a single io thread): its coroutines never run concurrently with each other,
        // while the shards run in parallel on --threads io threads.
        auto const shard = server->shards.next();
        auto [ec, socket] = co_await server->acceptor.async_accept(server->shards.executor(shard), nothrow);
        if (ec == asio::error::operation_aborted || server->stopped())
            break;  // the acceptor was closed: shutdown
        if (ec) {
            // Out of file descriptors and the like: say so, breathe, and keep serving the rest.
            log_warn(0, "accept failed: ", ec.message());
            asio::steady_timer pause(server->control, std::chrono::milliseconds(100));
            co_await pause.async_wait(nothrow);
            continue;
        }
        server->stats.tcp_connections_total.fetch_add(1, std::memory_order_relaxed);
        auto const executor = socket.get_executor();
        // The session owns the socket (moved into its frame). `detached` would lose an exception,
        // so the completion handler logs it: an exception here means a bug, not a bad client.
        asio::co_spawn(executor, run_session(std::move(socket), server, shard, server->take_http_slot()),
                       log_exceptions("session"));
    }
    if (!server->stopped())  // (a stopping server says so itself, before its last line)
        log_info(0, "no longer accepting connections");
}

}  // namespace coropush::net
