// echo: N connections, D requests outstanding on each, for S seconds. Every reply is checked
// byte for byte (the server's echo envelope is the request's), its latency recorded.
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <cstdio>
#include <deque>

namespace bench {
namespace asio = boost::asio;

namespace {

struct run_state {
    bool measuring = false;
    bool stopping = false;
    std::uint64_t replies = 0;
    std::uint64_t mismatches = 0;
    std::uint64_t unexpected_closes = 0;
    latencies latency;
};

// {"type":"echo","id":<id>,"data":{"text":"<text>"}} into `out`, without allocating.
std::string_view request_text(char (&out)[4096], std::uint64_t id, std::string_view text)
{
    static constexpr std::string_view head = R"({"type":"echo","id":)";
    static constexpr std::string_view middle = R"(,"data":{"text":")";
    static constexpr std::string_view tail = R"("}})";
    char* p = out;
    p = std::copy(head.begin(), head.end(), p);
    p = std::to_chars(p, std::end(out), id).ptr;
    p = std::copy(middle.begin(), middle.end(), p);
    p = std::copy(text.begin(), text.end(), p);
    p = std::copy(tail.begin(), tail.end(), p);
    return {out, static_cast<std::size_t>(p - out)};
}

asio::awaitable<void> echo_loop(ws_conn& conn, std::size_t depth, std::string const& text, run_state& state)
{
    struct pending {
        std::uint64_t id;
        clock::time_point sent;
    };
    std::deque<pending> in_flight;
    std::string out;
    std::uint64_t next_id = 1;
    char scratch[4096];

    auto send_next = [&] {
        auto const payload = request_text(scratch, next_id, text);
        append_frame(out, bench::text, payload);
        in_flight.push_back({next_id++, clock::now()});
    };

    for (std::size_t i = 0; i < depth; ++i)
        send_next();
    co_await conn.write(out);

    while (!(state.stopping && in_flight.empty())) {
        out.clear();
        bool const open = co_await conn.read_some([&](opcode, std::string_view payload) {
            auto const now = clock::now();
            if (in_flight.empty()) {
                ++state.mismatches;
                return;
            }
            auto const expected = in_flight.front();
            in_flight.pop_front();
            // Replies come in request order on one connection, and equal the request exactly.
            if (payload != request_text(scratch, expected.id, text))
                ++state.mismatches;
            if (state.measuring) {
                ++state.replies;
                state.latency.add(micros(now - expected.sent));
            }
            if (!state.stopping)
                send_next();
        });
        if (!open) {
            ++state.unexpected_closes;
            co_return;
        }
        if (!out.empty())
            co_await conn.write(out);
    }
    conn.drop();
}

}  // namespace

asio::awaitable<int> run_echo(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    auto open = co_await open_many(s, s.conns, s.subprotocol);
    auto const text = filler_text("", 0, s.size).substr(0, s.size);

    run_state state;
    task_group connections(executor);
    for (auto& conn : open.conns)
        connections.spawn(echo_loop(*conn, s.depth, text, state));

    // Warm up for a second, then measure for S seconds, then let the replies in flight drain.
    asio::steady_timer timer(executor, std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    cpu_meter cpu;
    cpu.start();
    state.measuring = true;
    timer.expires_after(s.seconds);
    co_await timer.async_wait(asio::use_awaitable);
    state.measuring = false;
    auto const cpu_percent = cpu.percent();
    state.stopping = true;
    co_await connections.wait();

    auto const rate = static_cast<double>(state.replies) / std::chrono::duration<double>(s.seconds).count();
    int const rc = state.mismatches > 0 ? 1 : (open.failed > 0 || state.unexpected_closes > 0) ? 3 : 0;
    std::printf("mode=echo conns=%zu open=%zu depth=%zu size=%zu seconds=%lld replies=%llu msgs_per_s=%.0f p50_us=%u "
                "p99_us=%u max_us=%u mismatches=%llu failed=%zu unexpected_close=%llu cpu_pct=%d rc=%d\n",
                s.conns, open.conns.size(), s.depth, s.size, static_cast<long long>(s.seconds.count()),
                static_cast<unsigned long long>(state.replies), rate, state.latency.percentile(50),
                state.latency.percentile(99), state.latency.max(), static_cast<unsigned long long>(state.mismatches),
                open.failed, static_cast<unsigned long long>(state.unexpected_closes), cpu_percent, rc);
    if (!open.first_error.empty())
        std::fprintf(stderr, "first connection error: %s\n", open.first_error.c_str());
    co_return rc;
}

}  // namespace bench
