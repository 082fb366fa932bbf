// fanout: N subscribers on one topic, one WebSocket publisher sending M messages one after
// another. A publish is complete when every subscriber has it and the publisher has its
// `published` reply; its latency runs from the publish being written to the last subscriber
// reading it. The run itself (subscribers, timing, the report) is run_fanout_with, which the
// server API's variant (apifanout.cpp) shares.
#include "load/fanout.hpp"

#include "load/stats.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <cstdio>

namespace bench {
namespace asio = boost::asio;

fanout_state::fanout_state(asio::any_io_executor ex, std::size_t msgs, std::size_t size)
    : progress(ex),
      texts(msgs + 1),
      received(msgs + 1, 0)
{
    for (std::size_t m = 1; m <= msgs; ++m)
        texts[m] = filler_text("", m, size);
}

void fanout_state::answered(std::uint64_t number, std::uint64_t delivered, std::size_t subscribers)
{
    if (number != acknowledged + 1)
        ++mismatches;  // answers come in order, one per message
    if (delivered != subscribers)
        ++wrong_delivered;
    acknowledged = number;
    progress.notify();
}

void fanout_state::refuse()
{
    ++mismatches;
    refused = true;
    progress.notify();
}

namespace {

std::string subscribe_frame()
{
    std::string frame;
    append_frame(frame, text, R"({"type":"subscribe","id":1,"data":{"topic":"bench"}})");
    return frame;
}

// True when `payload` is the topic message on "bench" whose text is `expected`, whatever the
// order of its members (the peers serialize with their own JSON libraries).
bool is_message(std::string_view payload, std::string_view expected)
{
    constexpr std::string_view text_key = R"("text":")";
    auto const at = payload.find(text_key);
    if (at == std::string_view::npos || payload.find(R"("type":"message")") == std::string_view::npos ||
        payload.find(R"("topic":"bench")") == std::string_view::npos)
        return false;
    auto const value = payload.substr(at + text_key.size());
    return value.size() > expected.size() && value.starts_with(expected) && value[expected.size()] == '"';
}

// Subscribes, then reads messages until the run is over, checking each is the next one, whole.
asio::awaitable<void> subscriber(ws_conn& conn, fanout_state& state, std::size_t subscribers)
{
    std::uint64_t expected = 1;
    bool subscribed = false;
    auto on_message = [&](opcode, std::string_view payload) {
        if (!subscribed) {
            subscribed = payload.find(R"("type":"subscribed")") != std::string_view::npos;
            return;
        }
        if (expected >= state.received.size() || !is_message(payload, state.texts[expected])) {
            ++state.mismatches;
            return;
        }
        if (++state.received[expected++] == subscribers)
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

// The publisher as a WebSocket client of the JSON dialect: `publish` envelopes, `published`
// replies.
class ws_publisher final : public fanout_publisher {
public:
    explicit ws_publisher(asio::any_io_executor ex)
        : conn_(std::move(ex))
    {
    }

    asio::awaitable<std::string> open(settings const& s) override { return conn_.open(s.where, s.subprotocol); }

    asio::awaitable<bool> publish(std::uint64_t number, std::string_view text_value) override
    {
        // Formatted into buffers that keep their capacity: no allocation per message.
        char digits[24];
        auto const end = std::to_chars(std::begin(digits), std::end(digits), number).ptr;
        payload_.clear();
        payload_.append(R"({"type":"publish","id":)")
            .append(std::begin(digits), end)
            .append(R"(,"data":{"topic":"bench","text":")")
            .append(text_value)
            .append(R"("}})");
        frame_.clear();
        append_frame(frame_, text, payload_);
        return conn_.write(frame_);
    }

    // (A member coroutine rather than a lambda: a lambda's captures would not outlive the
    // expression that spawns it.)
    asio::awaitable<void> read_answers(fanout_state& state, std::size_t msgs, std::size_t subscribers) override
    {
        auto on_reply = [&](opcode, std::string_view payload) {
            std::uint64_t delivered = 0;
            std::uint64_t id = 0;
            if (!find_number(payload, "id", id) || !find_number(payload, "delivered", delivered)) {
                state.refuse();
                return;
            }
            state.answered(id, delivered, subscribers);
        };
        while (state.acknowledged < msgs && !state.refused) {
            if (!co_await conn_.read_some(on_reply)) {
                ++state.unexpected_closes;
                state.progress.notify();
                co_return;
            }
        }
    }

    void drop() noexcept override { conn_.drop(); }

private:
    ws_conn conn_;
    std::string payload_;
    std::string frame_;
};

}  // namespace

asio::awaitable<int> run_fanout_with(settings const& s, char const* mode, fanout_publisher& publisher)
{
    auto executor = co_await asio::this_coro::executor;
    fanout_state state(executor, s.msgs, s.size);
    auto subs = co_await open_many(s, s.subs, s.subprotocol);
    auto const n = subs.conns.size();

    task_group readers(executor);
    for (auto& conn : subs.conns)
        readers.spawn(subscriber(*conn, state, n));

    auto const error = co_await publisher.open(s);
    if (!error.empty()) {
        std::printf("mode=%s subs=%zu error=publisher rc=3\n", mode, s.subs);
        std::fprintf(stderr, "publisher: %s\n", error.c_str());
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
    task_group answers(executor);
    answers.spawn(publisher.read_answers(state, s.msgs, n));
    for (std::uint64_t m = 1; m <= s.msgs; ++m) {
        auto const sent = clock::now();
        if (!co_await publisher.publish(m, state.texts[m]))
            ++state.unexpected_closes;
        while ((state.received[m] < n || state.acknowledged < m) && !state.failed())
            co_await state.progress.wait();
        if (state.failed())
            break;
        latency.add(micros(clock::now() - sent));
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
    co_await answers.wait();

    int const rc = (state.mismatches > 0 || state.wrong_delivered > 0)                      ? 1
                   : (subs.failed > 0 || state.unexpected_closes > 0 || completed < s.msgs) ? 3
                                                                                            : 0;
    std::printf("mode=%s subs=%zu open=%zu msgs=%zu completed=%llu size=%zu p50_us=%u p99_us=%u max_us=%u "
                "deliveries_per_s=%.0f seconds=%.2f mismatches=%llu wrong_delivered=%llu failed=%zu "
                "unexpected_close=%llu cpu_pct=%d rc=%d\n",
                mode, s.subs, n, s.msgs, static_cast<unsigned long long>(completed), s.size, latency.percentile(50),
                latency.percentile(99), latency.max(), static_cast<double>(completed * n) / elapsed, elapsed,
                static_cast<unsigned long long>(state.mismatches),
                static_cast<unsigned long long>(state.wrong_delivered), subs.failed,
                static_cast<unsigned long long>(state.unexpected_closes), cpu_percent, rc);
    co_return rc;
}

asio::awaitable<int> run_fanout(settings const& s)
{
    ws_publisher publisher(co_await asio::this_coro::executor);
    co_return co_await run_fanout_with(s, "fanout", publisher);
}

}  // namespace bench
