// A real redis-server for the backplane tests: started on a free loopback port, awaited until it
// says it accepts connections, killed and restarted on the same port on demand.
#pragma once

#include "support/child_process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace coropush::testing {

class redis_server {
public:
    // Picks a free port; nothing runs until start().
    explicit redis_server(boost::asio::any_io_executor executor);

    // Starts redis-server (no persistence) and waits for "Ready to accept connections". Throws,
    // saying how to install it, when there is no redis-server.
    boost::asio::awaitable<void> start();
    // SIGKILL, as a crash would, and waits for the exit.
    boost::asio::awaitable<void> kill();

    std::uint16_t port() const noexcept { return port_; }
    std::string url(std::string const& name_space = "test") const;

    // Runs a command with hiredis's blocking API (fine in a test) and returns the reply as an
    // integer (PUBSUB NUMSUB's count, for example).
    long long number_of_subscribers(std::string const& channel) const;

private:
    boost::asio::any_io_executor executor_;
    std::uint16_t port_;
    std::optional<child_process> process_;
};

// The path of an installed program (searched in PATH, then /usr/sbin and /usr/bin), or empty.
std::string find_program(std::string const& name);

// A loopback port that was free a moment ago (for servers that must be told their port).
std::uint16_t free_loopback_port();

}  // namespace coropush::testing
