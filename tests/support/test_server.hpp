// Running the real server inside a test process, and running client coroutines against it with a
// deadline. The server gets its own io_context and thread(s); each client body gets another.
#pragma once

#include "config/options.hpp"
#include "server/server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace coropush::testing {

// Options for tests: an ephemeral port, the project's web/ directory, and timings short enough
// that no test waits for long (each test shortens further what it exercises).
server_options test_options();

// The source tree, and its web/ directory.
std::filesystem::path source_directory();
std::filesystem::path web_directory();

class test_server {
public:
    explicit test_server(server_options options = test_options(), unsigned threads = 1);
    // `before_start` adds what a test serves beside the built-in endpoints (server::add).
    test_server(server_options options, std::function<void(coropush::server&)> const& before_start,
                unsigned threads = 1);
    ~test_server();
    test_server(test_server const&) = delete;
    test_server& operator=(test_server const&) = delete;

    std::uint16_t port() const { return server_->port(); }
    coropush::server& get() { return *server_; }
    coropush::metrics const& metrics() const { return server_->metrics(); }

    // Graceful shutdown; returns once the server's io threads have run out of work.
    void shutdown_and_wait();
    // Immediate stop; returns once every session has ended, so counters are final.
    void stop();

private:
    void join();

    boost::asio::io_context io_;
    std::optional<coropush::server> server_;
    std::vector<std::thread> threads_;
};

// Runs `body` on a fresh io_context on this thread until it finishes, rethrowing what it throws.
// Fails (throws) if it has not finished within `deadline`: tests wait for events, never for time.
// (In a sanitized build every deadline here is three times as long: such builds run slower.)
void run_client(std::function<boost::asio::awaitable<void>()> body,
                std::chrono::milliseconds deadline = std::chrono::seconds(10));

// Waits until `condition` (something a server exposes, such as a metric) holds, checking every
// 2 ms, for at most `limit`; throws naming `what` after that. For state that has no event to await.
boost::asio::awaitable<void> eventually(std::function<bool()> condition, std::string what,
                                        std::chrono::milliseconds limit = std::chrono::seconds(10));

// For coroutines, where ASSERT_* cannot be used: throws when `condition` is false.
void require(bool condition, char const* what);

}  // namespace coropush::testing
