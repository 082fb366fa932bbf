// A real redis-server for the backplane tests: started on a free loopback port, awaited until it
// says it accepts connections, killed and restarted on the same port, or hung (SIGSTOP) and
// resumed, on demand.
#pragma once

#include "support/child_process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace coropush::testing {

class redis_server {
public:
    // What survives a kill: nothing (the default), or every write (an append-only file, synced at
    // each write, in a temporary directory removed with this object).
    enum class persistence { none, append_only };

    // Picks a free port; nothing runs until start().
    explicit redis_server(boost::asio::any_io_executor executor, persistence keeps = persistence::none);
    ~redis_server();
    redis_server(redis_server const&) = delete;
    redis_server& operator=(redis_server const&) = delete;

    // Starts redis-server (no persistence) and waits for "Ready to accept connections". Throws,
    // saying how to install it, when there is no redis-server. If the chosen port was taken
    // meanwhile, it moves to another, unless its port was already handed out (port(), url()).
    boost::asio::awaitable<void> start();
    // SIGKILL, as a crash would, and waits for the exit.
    boost::asio::awaitable<void> kill();
    // SIGSTOP: a hung Redis (its sockets stay open, nothing is answered); returns once the
    // process is stopped. resume() sends SIGCONT and returns once it runs again.
    boost::asio::awaitable<void> pause();
    boost::asio::awaitable<void> resume();

    std::uint16_t port() const noexcept
    {
        port_handed_out_ = true;
        return port_;
    }
    std::string url(std::string const& name_space = "test") const;

    // Runs a command with hiredis's blocking API (fine in a test) and returns the reply as an
    // integer (PUBSUB NUMSUB's count, for example).
    long long number_of_subscribers(std::string const& channel) const;

private:
    boost::asio::any_io_executor executor_;
    std::string data_directory_;  // append_only: where the file is; empty otherwise
    std::uint16_t port_;
    std::optional<child_process> process_;
    mutable bool port_handed_out_ = false;

    // One redis-server on `port`: true once it is ready, false if the port was taken.
    boost::asio::awaitable<bool> launch(std::string program, std::uint16_t port);
    // Until the process's state (as /proc shows it) is or is not 'T' (stopped).
    boost::asio::awaitable<void> until_stopped(bool stopped);
};

// Starts a server that must be told its port (redis-server and nginx cannot pick one: redis's
// --port 0 turns TCP off, nginx refuses port 0): `launch(port)` starts it on a port that was free
// a moment ago and returns true once it serves, or false when the port was taken meanwhile (the
// child says so and exits). Then another port is tried, up to `attempts` times; the port that
// worked is returned. So the race between probing a port and the child binding it costs a retry,
// never a failed test.
boost::asio::awaitable<std::uint16_t>
start_on_free_port(std::function<boost::asio::awaitable<bool>(std::uint16_t)> launch, int attempts = 5);

// The path of an installed program (searched in PATH, then /usr/sbin and /usr/bin), or empty.
std::string find_program(std::string const& name);

// A loopback port that was free a moment ago (for servers that must be told their port).
std::uint16_t free_loopback_port();

}  // namespace coropush::testing
