// Running redis-server for tests.
#include "support/redis_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <signal.h>
#include <unistd.h>

namespace coropush::testing {
namespace asio = boost::asio;

std::uint16_t free_loopback_port()
{
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

std::string find_program(std::string const& name)
{
    std::string const path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin";
    std::stringstream dirs(path + ":/usr/sbin:/usr/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        auto const candidate = std::filesystem::path(dir) / name;
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
    }
    return {};
}

redis_server::redis_server(asio::any_io_executor executor)
    : executor_(std::move(executor)),
      port_(free_loopback_port())
{
}

asio::awaitable<void> redis_server::start()
{
    auto const program = find_program("redis-server");
    if (program.empty())
        throw std::runtime_error("redis-server is not installed: run scripts/install-deps.sh test");
    process_.reset();
    process_.emplace(executor_, program,
                     std::vector<std::string>{"--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                              "--appendonly", "no", "--logfile", "/dev/stderr", "--loglevel",
                                              "notice"});
    co_await process_->wait_for_line("Ready to accept connections");
}

asio::awaitable<void> redis_server::kill()
{
    if (!process_)
        co_return;
    process_->signal(SIGKILL);
    co_await process_->wait_for_exit();
    process_.reset();
}

std::string redis_server::url(std::string const& name_space) const
{
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + name_space;
}

long long redis_server::number_of_subscribers(std::string const& channel) const
{
    std::unique_ptr<redisContext, void (*)(redisContext*)> c(redisConnect("127.0.0.1", port_), redisFree);
    if (!c || c->err != 0)
        throw std::runtime_error("cannot connect to the test redis-server");
    auto* raw = static_cast<redisReply*>(redisCommand(c.get(), "PUBSUB NUMSUB %s", channel.c_str()));
    std::unique_ptr<redisReply, void (*)(void*)> reply(raw, freeReplyObject);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_INTEGER)
        throw std::runtime_error("unexpected reply to PUBSUB NUMSUB");
    return reply->element[1]->integer;
}

}  // namespace coropush::testing
