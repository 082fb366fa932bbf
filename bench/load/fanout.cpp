// fanout: N subscribers on one topic, one publisher sending M messages one after another. A
// publish is complete when every subscriber has it and the publisher has its `published` reply;
// its latency runs from the publish being written to the last subscriber reading it.
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <cstdio>

namespace bench {
namespace asio = boost::asio;

namespace {

struct run_state {
    explicit run_state(asio::any_io_executor ex, std::size_t msgs)
        : progress(ex),
          received(msgs + 1, 0)
    {
    }
    signal progress;                      // a publish may be complete: the publisher looks again
    std::vector<std::uint32_t> received;  // per message number: subscribers that have it
    std::size_t subscribed = 0;           // subscribers whose `subscribed` reply has arrived
    std::uint64_t published = 0;          // the publisher's latest `published` reply
    std::uint64_t wrong_delivered = 0;
    std::uint64_t mismatches = 0;
    std::uint64_t unexpected_closes = 0;
    bool done = false;
};

std::string subscribe_frame()
{
    std::string frame;
    append_frame(frame, text, R"({"type":"subscribe","id":1,"data":{"topic":"bench"}})");
    return frame;
}

// Subscribes, then reads messages until the run is over, checking each arrives once, in order.
asio::awaitable<void> subscriber(ws_conn& conn, run_state& state, std::size_t subscribers)
{
    std::uint64_t expected = 1;
    bool subscribed = false;
    auto on_message = [&](opcode, std::string_view payload) {
        if (!subscribed) {
            subscribed = payload.find(R"("type":"subscribed")") != std::string_view::npos;
            return;
        }
        // The text starts with the message's number: read it without parsing the JSON.
        std::uint64_t n = 0;
        constexpr std::string_view key = R"("text":")";
        auto const at = payload.find(key);
        auto const digits = at == std::string_view::npos ? std::string_view() : payload.substr(at + key.size());
        auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (at == std::string_view::npos || ec != std::errc() || end == digits.data()) {
            ++state.mismatches;
            return;
        }
        if (n != expected || n >= state.received.size()) {
            ++state.mismatches;
            return;
        }
        ++expected;
        if (++state.received[n] == subscribers)
            state.progress.notify();
    };
    co_await conn.write(subscribe_frame());
    while (!subscribed) {
        if (!co_await conn.read_some(on_message)) {
            ++state.unexpected_closes;
            co_return;
        }
    }
    ++state.subscribed;
    state.progress.notify();  // one more subscriber is in
    while (!state.done) {
        if (!co_await conn.read_some(on_message)) {
            if (!state.done)
                ++state.unexpected_closes;
            co_return;
        }
    }
}

// Reads the publisher's `published` replies, checking each counts every subscriber. (A named
// coroutine rather than a lambda: a lambda's captures would not outlive the expression that
// spawns it.)
asio::awaitable<void> publisher_replies(ws_conn& publisher, run_state& state, std::size_t msgs, std::size_t subscribers)
{
    while (state.published < msgs) {
        if (!co_await publisher.read_some([&](opcode, std::string_view payload) {
                std::uint64_t delivered = 0;
                std::uint64_t id = 0;
                if (!find_number(payload, "id", id) || !find_number(payload, "delivered", delivered)) {
                    ++state.mismatches;
                    return;
                }
                if (delivered != subscribers)
                    ++state.wrong_delivered;
                state.published = id;
                state.progress.notify();
            })) {
            ++state.unexpected_closes;
            state.progress.notify();
            co_return;
        }
    }
}

}  // namespace

asio::awaitable<int> run_fanout(settings const& s)
{
    auto executor = co_await asio::this_coro::executor;
    run_state state(executor, s.msgs);
    auto subs = co_await open_many(s, s.subs, s.subprotocol);
    auto const n = subs.conns.size();

    task_group readers(executor);
    for (auto& conn : subs.conns)
        readers.spawn(subscriber(*conn, state, n));

    ws_conn publisher(executor);
    auto const error = co_await publisher.open(s.where, s.subprotocol);
    if (!error.empty()) {
        std::printf("mode=fanout subs=%zu error=publisher rc=3\n", s.subs);
        co_return 3;
    }
    // Wait until every subscriber's `subscribed` reply has arrived: a publish to a client that is
    // not subscribed yet would not reach it. (Checked before each wait, so no wake-up is lost.)
    while (state.subscribed + state.unexpected_closes < n)
        co_await state.progress.wait();

    latencies latency;
    cpu_meter cpu;
    cpu.start();
    auto const started = clock::now();
    task_group replies(executor);
    replies.spawn(publisher_replies(publisher, state, s.msgs, n));
    std::string frame;
    for (std::uint64_t m = 1; m <= s.msgs; ++m) {
        auto const text_value = filler_text("", m, s.size);
        frame.clear();
        append_frame(frame, text,
                     R"({"type":"publish","id":)" + std::to_string(m) + R"(,"data":{"topic":"bench","text":")" +
                         text_value + R"("}})");
        auto const sent = clock::now();
        co_await publisher.write(frame);
        while (state.received[m] < n || state.published < m) {
            if (state.unexpected_closes > 0)
                break;
            co_await state.progress.wait();
        }
        latency.add(micros(clock::now() - sent));
        if (state.unexpected_closes > 0)
            break;
    }
    auto const elapsed = std::chrono::duration<double>(clock::now() - started).count();
    auto const cpu_percent = cpu.percent();
    std::uint64_t completed = 0;
    for (std::size_t m = 1; m < state.received.size(); ++m)
        completed += state.received[m] == n ? 1 : 0;
    state.done = true;
    publisher.drop();
    for (auto& conn : subs.conns)
        conn->drop();
    co_await readers.wait();
    co_await replies.wait();

    int const rc = (state.mismatches > 0 || state.wrong_delivered > 0)                      ? 1
                   : (subs.failed > 0 || state.unexpected_closes > 0 || completed < s.msgs) ? 3
                                                                                            : 0;
    std::printf("mode=fanout subs=%zu open=%zu msgs=%zu completed=%llu size=%zu p50_us=%u p99_us=%u max_us=%u "
                "deliveries_per_s=%.0f seconds=%.2f mismatches=%llu wrong_delivered=%llu failed=%zu "
                "unexpected_close=%llu cpu_pct=%d rc=%d\n",
                s.subs, n, s.msgs, static_cast<unsigned long long>(completed), s.size, latency.percentile(50),
                latency.percentile(99), latency.max(), static_cast<double>(completed * n) / elapsed, elapsed,
                static_cast<unsigned long long>(state.mismatches),
                static_cast<unsigned long long>(state.wrong_delivered), subs.failed,
                static_cast<unsigned long long>(state.unexpected_closes), cpu_percent, rc);
    co_return rc;
}

}  // namespace bench
