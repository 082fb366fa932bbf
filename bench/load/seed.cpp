// seed: N clients do the original demo's flow at once, on the plain-text dialect: each sends the
// greeting and must get the welcome, then the notice about a second later. Measures when the
// notices arrive, relative to each client's greeting, and the interval from the welcome to the
// notice (the server schedules the notice one push delay after it has written the welcome).
//
// The interval is taken from the kernel's receive timestamps of the two messages (SO_TIMESTAMPNS,
// ws_conn::record_arrival_times), not from when this tool got around to reading them: with 10 000
// clients greeting at once, this one-threaded tool reads many welcomes hundreds of milliseconds
// after they arrived, and the interval would measure the tool. Over TLS, or if the kernel gives
// no timestamp, it falls back to the read times.
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstdio>
#include <optional>

namespace bench {
namespace asio = boost::asio;

namespace {

constexpr std::string_view greeting = "亲爱的服务器！我连上你啦！";
constexpr std::string_view welcome = "欢迎你朋友！";
constexpr std::string_view notice = "朋友，既然来就多看看！";

struct run_state {
    std::uint64_t welcomes = 0;
    std::uint64_t notices = 0;
    std::uint64_t mismatches = 0;
    std::uint64_t unexpected_closes = 0;
    latencies notice_delay;  // greeting sent -> notice read
    latencies notice_gap;    // welcome read -> notice read
};

asio::awaitable<void> demo(ws_conn& conn, std::string const& frame, run_state& state)
{
    conn.record_arrival_times();
    auto const sent = clock::now();
    auto welcomed = sent;
    std::optional<std::chrono::system_clock::time_point> welcome_arrived;
    co_await conn.write(frame);
    int received = 0;
    while (received < 2) {
        if (!co_await conn.read_some([&](opcode, std::string_view payload) {
                auto const now = clock::now();
                if (received == 0) {
                    payload == welcome ? ++state.welcomes : ++state.mismatches;
                    welcomed = now;
                    welcome_arrived = conn.last_arrival();
                } else if (payload == notice) {
                    ++state.notices;
                    state.notice_delay.add(micros(now - sent));
                    auto const notice_arrived = conn.last_arrival();
                    if (welcome_arrived && notice_arrived && *notice_arrived != *welcome_arrived)
                        state.notice_gap.add(
                            micros(std::chrono::duration_cast<clock::duration>(*notice_arrived - *welcome_arrived)));
                    else
                        state.notice_gap.add(micros(now - welcomed));
                } else {
                    ++state.mismatches;
                }
                ++received;
            })) {
            ++state.unexpected_closes;
            co_return;
        }
    }
    conn.drop();
}

}  // namespace

asio::awaitable<int> run_seed(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    auto open = co_await open_many(s, s.conns, "");  // no subprotocol: the plain-text dialect
    std::string frame;
    append_frame(frame, text, greeting);

    run_state state;
    cpu_meter cpu;
    cpu.start();
    task_group clients(executor);
    for (auto& conn : open.conns)
        clients.spawn(demo(*conn, frame, state));
    co_await clients.wait();

    // The notice is due one second after the greeting: how far from it did they land?
    auto const p50 = state.notice_delay.percentile(50);
    auto const p99 = state.notice_delay.percentile(99);
    auto const p1 = state.notice_delay.percentile(1);
    auto& gap = state.notice_gap;
    int const rc = state.mismatches > 0 ? 1 : (open.failed > 0 || state.notices < s.conns) ? 3 : 0;
    std::printf("mode=seed clients=%zu open=%zu welcomes=%llu notices=%llu notice_p1_ms=%.1f notice_p50_ms=%.1f "
                "notice_p99_ms=%.1f notice_max_ms=%.1f gap_p1_ms=%.1f gap_p50_ms=%.1f gap_p99_ms=%.1f gap_max_ms=%.1f "
                "ramp_s=%.2f mismatches=%llu failed=%zu unexpected_close=%llu cpu_pct=%d rc=%d\n",
                s.conns, open.conns.size(), static_cast<unsigned long long>(state.welcomes),
                static_cast<unsigned long long>(state.notices), p1 / 1000.0, p50 / 1000.0, p99 / 1000.0,
                state.notice_delay.max() / 1000.0, gap.percentile(1) / 1000.0, gap.percentile(50) / 1000.0,
                gap.percentile(99) / 1000.0, gap.max() / 1000.0, open.ramp_seconds,
                static_cast<unsigned long long>(state.mismatches), open.failed,
                static_cast<unsigned long long>(state.unexpected_closes), cpu.percent(), rc);
    if (!open.first_error.empty())
        std::fprintf(stderr, "first connection error: %s\n", open.first_error.c_str());
    co_return rc;
}

}  // namespace bench
