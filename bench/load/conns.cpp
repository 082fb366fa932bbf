// conns: open N connections and hold them idle for S seconds (answering pings), so the bench
// script can read the server's memory per idle connection while they are held.
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <cstdio>
#include <fstream>

namespace bench {
namespace asio = boost::asio;

asio::awaitable<int> run_conns(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    auto open = co_await open_many(s, s.conns, s.subprotocol);
    if (!s.ready_file.empty())
        std::ofstream(s.ready_file) << open.conns.size() << '\n';

    bool holding = true;
    std::size_t unexpected_closes = 0;
    task_group readers(executor);
    for (auto& conn : open.conns)
        readers.spawn([](ws_conn& c, bool& hold, std::size_t& closes) -> asio::awaitable<void> {
            while (co_await c.read_some([](opcode, std::string_view) {}))
                ;
            if (hold)
                ++closes;
        }(*conn, holding, unexpected_closes));

    asio::steady_timer timer(executor, s.hold);
    co_await timer.async_wait(asio::use_awaitable);
    std::size_t still_open = open.conns.size() - unexpected_closes;
    // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the readers see it through their reference
    holding = false;
    for (auto& conn : open.conns)
        conn->drop();
    co_await readers.wait();
    int const rc = (open.failed > 0 || unexpected_closes > 0) ? 3 : 0;
    std::printf(
        "mode=conns conns=%zu upgraded=%zu failed=%zu ramp_s=%.2f held_s=%lld still_open_after_hold=%zu rc=%d\n",
        s.conns, open.conns.size(), open.failed, open.ramp_seconds, static_cast<long long>(s.hold.count()), still_open,
        rc);
    if (!open.first_error.empty())
        std::fprintf(stderr, "first connection error: %s\n", open.first_error.c_str());
    co_return rc;
}

}  // namespace bench
