// Nodes around one redis-server, for the Redis suites.
#include "redis/cluster.hpp"

#include "support/raw_connection.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace coropush::testing {
using boost::asio::awaitable;

server_options node_options(std::string const& backplane)
{
    auto options = test_options();
    options.backplane = backplane;
    return options;
}

bool up(test_server const& node)
{
    return node.metrics().backplane_up.load() == 1;
}

std::int64_t channels(test_server const& node)
{
    return node.metrics().backplane_channels.load();
}

awaitable<unsigned> readyz(std::uint16_t port)
{
    auto probe = co_await raw_connection::connect(port);
    co_await probe.write("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto const reply = co_await probe.read_http();
    co_return reply.status;
}

void with_nodes(std::size_t count, std::function<awaitable<void>(cluster&)> body, bool redis_running,
                std::function<void(server_options&, std::size_t)> adjust, std::chrono::milliseconds deadline)
{
    run_client(
        [&]() -> awaitable<void> {
            redis_server redis(co_await boost::asio::this_coro::executor);
            if (redis_running)
                co_await redis.start();
            cluster c{redis, {}};
            for (std::size_t i = 0; i < count; ++i) {
                auto options = node_options(redis.url());
                if (adjust)
                    adjust(options, i);
                c.nodes.push_back(std::make_unique<test_server>(options));
            }
            if (redis_running)
                co_await eventually(
                    [&] { return std::all_of(c.nodes.begin(), c.nodes.end(), [](auto const& n) { return up(*n); }); },
                    "every node reaches redis");
            co_await body(c);
        },
        deadline);
}

}  // namespace coropush::testing
