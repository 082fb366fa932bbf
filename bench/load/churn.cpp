// churn: W workers each repeat a whole connection's life for S seconds: connect, upgrade, one
// echo, close handshake, end of TCP. Measures how fast the server sets sessions up and down.
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/this_coro.hpp>

#include <cstdio>

namespace bench {
namespace asio = boost::asio;

namespace {

struct run_state {
    clock::time_point end;
    std::uint64_t cycles = 0;
    std::uint64_t failures = 0;
    std::uint64_t mismatches = 0;
    std::string first_error;
};

asio::awaitable<void> worker(settings const& s, std::string const& request, std::string const& expected,
                             run_state& state)
{
    auto executor = co_await asio::this_coro::executor;
    std::string frame;
    append_frame(frame, text, request);
    while (clock::now() < state.end) {
        ws_conn conn(executor);
        auto const error = co_await conn.open(s.where, s.subprotocol);
        if (!error.empty()) {
            if (state.first_error.empty())
                state.first_error = error;
            ++state.failures;
            continue;
        }
        co_await conn.write(frame);
        bool replied = false;
        while (!replied) {
            if (!co_await conn.read_some([&](opcode, std::string_view payload) {
                    replied = true;
                    if (payload != expected)
                        ++state.mismatches;
                }))
                break;
        }
        if (replied && co_await conn.close_gracefully())
            ++state.cycles;
        else
            ++state.failures;
    }
}

}  // namespace

asio::awaitable<int> run_churn(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    auto const request = R"({"type":"echo","id":1,"data":{"text":")" + filler_text("", 1, s.size) + R"("}})";
    run_state state;
    cpu_meter cpu;
    cpu.start();
    state.end = clock::now() + s.seconds;
    task_group workers(executor);
    for (std::size_t w = 0; w < s.workers; ++w)
        workers.spawn(worker(s, request, request, state));
    co_await workers.wait();
    auto const cpu_percent = cpu.percent();
    int const rc = state.mismatches > 0 ? 1 : state.failures > 0 ? 3 : 0;
    std::printf("mode=churn workers=%zu seconds=%lld cycles=%llu cycles_per_s=%.0f failures=%llu mismatches=%llu "
                "cpu_pct=%d rc=%d\n",
                s.workers, static_cast<long long>(s.seconds.count()), static_cast<unsigned long long>(state.cycles),
                static_cast<double>(state.cycles) / std::chrono::duration<double>(s.seconds).count(),
                static_cast<unsigned long long>(state.failures), static_cast<unsigned long long>(state.mismatches),
                cpu_percent, rc);
    if (!state.first_error.empty())
        std::fprintf(stderr, "first error: %s\n", state.first_error.c_str());
    co_return rc;
}

}  // namespace bench
