// seed: N clients do the original demo's flow at once, on the plain-text dialect: each sends the
// greeting and must get the welcome, then the notice about a second later. Measures when the
// notices arrive, relative to each client's greeting, and the interval from the welcome to the
// notice (the server schedules the notice one push delay after it has written the welcome).
//
// The interval is taken from the kernel's receive timestamps of the two messages (SO_TIMESTAMPNS,
// ws_conn::record_arrival_times), not from when this tool got around to reading them: with 10 000
// clients greeting at once, this one-threaded tool reads many welcomes hundreds of milliseconds
// after they arrived, and the interval would measure the tool. Over TLS, or if the kernel gives
// no timestamp, it falls back to the read times, and gaps_from_reads counts those intervals.
//
// Linux stamps arriving packets only while some socket wants timestamps, and turns that on for
// the first one from a deferred work item: until the item has run, messages arrive with none. On
// a machine this busy that took long enough, in some runs, for the first hundreds of welcomes to
// come unstamped (and their intervals, from the read times, came out up to ~100 ms short). So timestamps
// are switched on, and seen to be on, before the first greeting (seed_timestamps_on).
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"
#include "load/ws_conn.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
    latencies notice_delay;             // greeting sent -> notice read
    latencies notice_gap;               // welcome read -> notice read
    std::uint64_t gaps_from_reads = 0;  // intervals taken from the read times: no kernel timestamp
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
                    else {
                        state.notice_gap.add(micros(now - welcomed));
                        ++state.gaps_from_reads;
                    }
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

// A UDP socket on loopback that asks for receive timestamps, and so keeps them on while it is
// open. on() sends it a datagram and tells whether the kernel stamped it on arrival: loopback
// delivers within the send, so a real stamp is no later than the send's return. (A datagram that
// arrived unstamped is stamped when it is read instead, which is later; a TCP read gives no stamp.)
class timestamp_probe {
public:
    timestamp_probe()
        : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))
    {
        int const yes = 1;
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof local;
        auto* address = reinterpret_cast<sockaddr*>(&local);
        usable_ = fd_ >= 0 && ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &yes, sizeof yes) == 0 &&
                  ::bind(fd_, address, sizeof local) == 0 && ::getsockname(fd_, address, &length) == 0 &&
                  ::connect(fd_, address, sizeof local) == 0;
    }
    ~timestamp_probe()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    timestamp_probe(timestamp_probe const&) = delete;
    timestamp_probe& operator=(timestamp_probe const&) = delete;
    timestamp_probe(timestamp_probe&&) = delete;
    timestamp_probe& operator=(timestamp_probe&&) = delete;

    bool usable() const noexcept { return usable_; }
    bool on() const noexcept
    {
        char byte = 0;
        if (::send(fd_, &byte, 1, 0) != 1)
            return false;
        auto const sent = std::chrono::system_clock::now();
        std::optional<std::chrono::system_clock::time_point> arrival;
        return receive_stamped(fd_, &byte, 1, MSG_DONTWAIT, arrival) == 1 && arrival && *arrival <= sent;
    }

private:
    int fd_;
    bool usable_ = false;
};

// Waits (up to 2 s, checking every millisecond) until the kernel stamps what arrives; false if it
// never did, and then the intervals fall back to the read times (gaps_from_reads says how many).
asio::awaitable<bool> seed_timestamps_on(timestamp_probe const& probe)
{
    if (!probe.usable())
        co_return false;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (int attempt = 0; attempt < 2000; ++attempt) {
        if (probe.on())
            co_return true;
        pause.expires_after(std::chrono::milliseconds(1));
        co_await pause.async_wait(asio::use_awaitable);
    }
    co_return false;
}

}  // namespace

asio::awaitable<int> run_seed(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    timestamp_probe const probe;  // held to the end: the timestamps stay on
    bool const stamped = co_await seed_timestamps_on(probe);
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
                "timestamps=%s gaps_from_reads=%llu ramp_s=%.2f mismatches=%llu failed=%zu unexpected_close=%llu "
                "cpu_pct=%d rc=%d\n",
                s.conns, open.conns.size(), static_cast<unsigned long long>(state.welcomes),
                static_cast<unsigned long long>(state.notices), p1 / 1000.0, p50 / 1000.0, p99 / 1000.0,
                state.notice_delay.max() / 1000.0, gap.percentile(1) / 1000.0, gap.percentile(50) / 1000.0,
                gap.percentile(99) / 1000.0, gap.max() / 1000.0, stamped ? "on" : "off",
                static_cast<unsigned long long>(state.gaps_from_reads), open.ramp_seconds,
                static_cast<unsigned long long>(state.mismatches), open.failed,
                static_cast<unsigned long long>(state.unexpected_closes), cpu.percent(), rc);
    if (!open.first_error.empty())
        std::fprintf(stderr, "first connection error: %s\n", open.first_error.c_str());
    co_return rc;
}

}  // namespace bench
