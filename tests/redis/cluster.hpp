// What the Redis suites share: coropush nodes in this process around one real redis-server, and
// the questions the tests ask them (is the backplane up, how many channels, what /readyz says).
#pragma once

#include "support/redis_server.hpp"
#include "support/test_server.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace coropush::testing {

server_options node_options(std::string const& backplane);

bool up(test_server const& node);
std::int64_t channels(test_server const& node);

// The status code of GET /readyz.
boost::asio::awaitable<unsigned> readyz(std::uint16_t port);

// Redis (started, unless `redis_running` is false) and `count` coropush nodes sharing it.
struct cluster {
    redis_server& redis;
    std::vector<std::unique_ptr<test_server>> nodes;
    test_server& operator[](std::size_t i) { return *nodes.at(i); }
};

// Runs `body` on a cluster, within `deadline`. `adjust` may change node i's options first.
void with_nodes(std::size_t count, std::function<boost::asio::awaitable<void>(cluster&)> body,
                bool redis_running = true, std::function<void(server_options&, std::size_t)> adjust = {},
                std::chrono::milliseconds deadline = std::chrono::seconds(30));

}  // namespace coropush::testing
