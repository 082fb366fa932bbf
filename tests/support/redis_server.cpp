// Running redis-server for tests.
#include "support/redis_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

redis_server::redis_server(asio::any_io_executor executor, persistence keeps)
    : executor_(std::move(executor)),
      port_(free_loopback_port())
{
    if (keeps == persistence::append_only) {
        std::string name = (std::filesystem::temp_directory_path() / "coropush-redis-XXXXXX").string();
        if (::mkdtemp(name.data()) == nullptr)
            throw std::runtime_error("cannot make a directory for redis-server's append-only file");
        data_directory_ = name;
    }
}

redis_server::~redis_server()
{
    process_.reset();  // killed before its files go
    if (!data_directory_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(data_directory_, ignored);
    }
}

asio::awaitable<std::uint16_t> start_on_free_port(std::function<asio::awaitable<bool>(std::uint16_t)> launch,
                                                  int attempts)
{
    for (int attempt = 0; attempt < attempts; ++attempt) {
        auto const port = free_loopback_port();
        if (co_await launch(port))
            co_return port;
    }
    throw std::runtime_error("every loopback port tried was taken before the server could bind it (" +
                             std::to_string(attempts) + " attempts)");
}

asio::awaitable<bool> redis_server::launch(std::string program, std::uint16_t port)
{
    process_.reset();
    std::vector<std::string> arguments{"--port", std::to_string(port), "--bind",      "127.0.0.1",  "--save",
                                       "",       "--logfile",          "/dev/stderr", "--loglevel", "notice"};
    if (data_directory_.empty()) {
        arguments.insert(arguments.end(), {"--appendonly", "no"});
    } else {
        arguments.insert(arguments.end(), {"--appendonly", "yes", "--appendfsync", "always", "--dir", data_directory_});
    }
    process_.emplace(executor_, program, std::move(arguments));
    bool ready = false;
    try {
        co_await process_->wait_for_line("Ready to accept connections");
        ready = true;
    } catch (std::runtime_error const&) {
        // Its stderr ended: it exited. Why is in what it said.
    }
    if (ready)
        co_return true;
    auto const said = process_->output();
    (void)co_await process_->wait_for_exit();
    process_.reset();
    if (said.find("Address already in use") != std::string::npos)
        co_return false;
    throw std::runtime_error("redis-server exited before it was ready; it said:\n" + said);
}

asio::awaitable<void> redis_server::start()
{
    auto const program = find_program("redis-server");
    if (program.empty())
        throw std::runtime_error("redis-server is not installed: run scripts/install-deps.sh test");
    if (co_await launch(program, port_))
        co_return;
    if (port_handed_out_)
        throw std::runtime_error("port " + std::to_string(port_) +
                                 " was taken by another process, and the nodes were already told it");
    // Named first: GCC 12 destroys a lambda inside a co_await expression twice, and its copy of
    // `program` with it (CONTRIBUTING.md, compiler pitfalls).
    auto const launch_on = [this, program](std::uint16_t port) { return launch(program, port); };
    port_ = co_await start_on_free_port(launch_on);
}

asio::awaitable<void> redis_server::kill()
{
    if (!process_)
        co_return;
    process_->signal(SIGKILL);
    co_await process_->wait_for_exit();
    process_.reset();
}

asio::awaitable<void> redis_server::until_stopped(bool stopped)
{
    // /proc/PID/stat: "PID (COMM) STATE ...": a signal is delivered asynchronously, so wait until
    // the kernel shows its effect (bounded: a stop or a continue takes microseconds).
    auto const state = [pid = process_->pid()] {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto const end_of_name = text.rfind(')');
        return end_of_name == std::string::npos || end_of_name + 2 >= text.size() ? '?' : text[end_of_name + 2];
    };
    asio::steady_timer tick(executor_);
    for (int i = 0; (state() == 'T') != stopped; ++i) {
        if (i == 5000)
            throw std::runtime_error(stopped ? "redis-server did not stop" : "redis-server did not continue");
        tick.expires_after(std::chrono::milliseconds(1));
        co_await tick.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<void> redis_server::pause()
{
    if (!process_)
        throw std::runtime_error("redis-server is not running");
    process_->signal(SIGSTOP);
    co_await until_stopped(true);
}

asio::awaitable<void> redis_server::resume()
{
    if (!process_)
        throw std::runtime_error("redis-server is not running");
    process_->signal(SIGCONT);
    co_await until_stopped(false);
}

std::string redis_server::url(std::string const& name_space) const
{
    port_handed_out_ = true;
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
