// The in-process server and the client runner.
#include "support/test_server.hpp"

#include "pubsub/make_backplane.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

#ifndef COROPUSH_SOURCE_DIR
#error "COROPUSH_SOURCE_DIR must be defined by the build"
#endif

namespace coropush::testing {
namespace asio = boost::asio;
using namespace std::chrono_literals;

std::filesystem::path source_directory()
{
    return COROPUSH_SOURCE_DIR;
}

std::filesystem::path web_directory()
{
    return source_directory() / "web";
}

server_options test_options()
{
    server_options o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.web_root = web_directory().string();
    o.threads = 1;
    o.push_delay = 50ms;
    o.handshake_timeout = 5s;
    o.close_timeout = 2s;
    o.ping_interval = 0ms;  // off unless a test is about keep-alive
    o.rate_messages = 0;    // off unless a test is about rate limits: many tests send bursts on purpose
    o.shutdown_grace = 2s;
    o.job_step_time = 5ms;
    return o;
}

test_server::test_server(server_options options, unsigned threads)
    : test_server(std::move(options), {}, threads)
{
}

test_server::test_server(server_options options, std::function<void(coropush::server&)> const& before_start,
                         unsigned threads)
{
    options.threads = threads;                         // the server relies on it: one thread runs without strands
    auto link = pubsub::make_backplane(options, io_);  // in-process unless options.backplane names Redis
    server_.emplace(io_, std::move(options), std::move(link));
    if (before_start)
        before_start(*server_);
    server_->start();
    for (unsigned i = 0; i < threads; ++i)
        threads_.emplace_back([this] { io_.run(); });
}

test_server::~test_server()
{
    stop();
}

void test_server::stop()
{
    if (threads_.empty())
        return;
    server_->stop_now();
    join();
}

void test_server::shutdown_and_wait()
{
    server_->shutdown();
    join();
}

void test_server::join()
{
    for (auto& t : threads_)
        t.join();
    threads_.clear();
}

// Sanitized builds run several times slower: ASan, UBSan and TSan instrument every memory access,
// and the byte loops of a 16 MiB echo take 25-30 s under them on a two-core machine, against 2 s
// without. A deadline is there to catch a hang, not to time anything: it stretches with them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int deadline_stretch = 3;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int deadline_stretch = 3;
#else
constexpr int deadline_stretch = 1;
#endif
#else
constexpr int deadline_stretch = 1;
#endif

void run_client(std::function<asio::awaitable<void>()> body, std::chrono::milliseconds deadline)
{
    deadline *= deadline_stretch;
    using namespace asio::experimental::awaitable_operators;
    asio::io_context io;
    std::exception_ptr failure;

    // The body's exception is captured as a value, so that `||` sees it finish (it waits for the
    // first *successful* completion) and the test fails with the body's own message.
    auto capture = [&]() -> asio::awaitable<std::exception_ptr> {
        try {
            co_await body();
        } catch (...) {
            co_return std::current_exception();
        }
        co_return nullptr;
    };
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
            auto outcome = co_await (capture() || timer.async_wait(asio::use_awaitable));
            if (outcome.index() == 1)
                throw std::runtime_error("test deadline of " + std::to_string(deadline.count()) + " ms exceeded");
            if (auto e = std::get<0>(outcome))
                std::rethrow_exception(e);
        },
        [&](std::exception_ptr e) { failure = std::move(e); });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
}

asio::awaitable<void> eventually(std::function<bool()> condition, std::string what, std::chrono::milliseconds limit)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto const deadline = std::chrono::steady_clock::now() + limit * deadline_stretch;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("timed out waiting until " + what);
        timer.expires_after(std::chrono::milliseconds(2));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

void require(bool condition, char const* what)
{
    if (!condition)
        throw std::runtime_error(std::string("requirement failed: ") + what);
}

}  // namespace coropush::testing
