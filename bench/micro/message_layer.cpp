// Google Benchmark micro-benchmarks of the message layer: decoding a request, encoding a reply,
// and dispatching a text frame through the JSON dialect to its handler (to an outbox that only
// counts). Run: build/release/bench/coropush-micro
#include "protocol/codec.hpp"
#include "service/json_dialect.hpp"
#include "service/json_extensions.hpp"
#include "service/user_sessions.hpp"

#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

namespace {
using namespace coropush;

constexpr std::string_view echo_request =
    R"({"type":"echo","id":12345,"data":{"text":"0123456789012345678901234567890123456789012345678901234567890123"}})";
constexpr std::string_view publish_request =
    R"({"type":"publish","id":7,"data":{"topic":"news","text":"hello, everyone"}})";

void decode_echo(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(protocol::decode_request(echo_request));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * echo_request.size()));
}
BENCHMARK(decode_echo);

void decode_publish(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(protocol::decode_request(publish_request));
}
BENCHMARK(decode_publish);

void decode_invalid_json(benchmark::State& state)
{
    std::string const bad = R"({"type":"echo","id":1,"data":{"text":"unterminated)";
    for (auto _ : state)
        benchmark::DoNotOptimize(protocol::decode_request(bad));
}
BENCHMARK(decode_invalid_json);

void encode_echo(benchmark::State& state)
{
    protocol::echo const reply{"0123456789012345678901234567890123456789012345678901234567890123"};
    for (auto _ : state)
        benchmark::DoNotOptimize(protocol::encode(reply, 12345));
}
BENCHMARK(encode_echo);

void encode_message(benchmark::State& state)
{
    protocol::message const m{"news", "hello, everyone"};
    for (auto _ : state)
        benchmark::DoNotOptimize(protocol::encode(m));
}
BENCHMARK(encode_message);

// An outbox that counts what the handler sends, so the benchmark measures the handler alone.
class counting_outbox final : public outbox {
public:
    std::uint64_t id() const noexcept override { return 1; }
    void send(outbound_message frame) override
    {
        bytes += frame.size();
        ++frames;
    }
    // As a connection that can send at once takes a reply: a view, copied into its batch.
    void send_copy(std::string_view payload, bool /*binary*/) override
    {
        bytes += payload.size();
        ++frames;
    }
    void send_after(std::chrono::steady_clock::duration, outbound_message) override { ++scheduled; }
    void close(std::uint16_t, std::string_view) override {}
    void close_at(std::chrono::steady_clock::time_point, std::uint16_t, std::string_view) override {}
    std::shared_ptr<push_target> target() override { return nullptr; }
    std::uint64_t frames = 0, bytes = 0, scheduled = 0;
};

void dispatch_echo(benchmark::State& state)
{
    server_options options;
    metrics stats;
    service::demo_replies demo{make_payload("{}"), "w", std::chrono::seconds(1)};
    std::atomic<bool> draining{false};
    options.rate_messages = 0;  // the handler alone, as fast as it goes
    auth::access_policy const access;
    service::user_sessions users;
    service::json_extensions const none;  // no feature's message types
    service::service_context services{options, stats, demo, draining, access, nullptr, users, none};
    counting_outbox out;
    service::json_dialect dialect(out, services);
    for (auto _ : state)
        dialect.on_text(echo_request);
    benchmark::DoNotOptimize(out.bytes);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(dispatch_echo);

}  // namespace

BENCHMARK_MAIN();
