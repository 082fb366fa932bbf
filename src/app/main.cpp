// The coropush executable: command line, signals and io threads. Everything else is in the library.
#include "core/log.hpp"
#include "pubsub/make_backplane.hpp"
#include "server/command_line.hpp"
#include "server/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#ifndef COROPUSH_VERSION
#define COROPUSH_VERSION "0"
#endif

namespace asio = boost::asio;

namespace {

// Every connection is a file descriptor, and a shell's or a service's default soft limit on them
// is often 1024 (Debian's), well under --max-connections. The soft limit is raised to the hard
// one, as systemd's documentation asks of programs that need many descriptors (Go's runtime does
// it for every program); if even the hard limit is short of what --max-connections needs, the
// log says so once, at start, rather than as accept failures under load.
void raise_open_file_limit(std::size_t max_connections)
{
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0)
        return;
    if (files.rlim_cur < files.rlim_max) {
        auto const before = files.rlim_cur;
        files.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &files) == 0)
            coropush::log_info(0, "open files: soft limit raised from ", before, " to ", files.rlim_cur);
        else
            files.rlim_cur = before;
    }
    constexpr rlim_t spare = 64;  // the listener, epoll, timers, the backplane, files being served
    if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < max_connections + spare)
        coropush::log_warn(0, "open files: the limit (", files.rlim_cur, ") is below what --max-connections ",
                           max_connections,
                           " needs: past it, accepting fails (retried every 100 ms) until a "
                           "connection ends. Raise the hard limit (ulimit -Hn, systemd's LimitNOFILE)");
}

}  // namespace

int main(int argc, char** argv)
{
    using coropush::command_line;
    auto const parsed = coropush::parse_command_line(argc, argv);
    switch (parsed.what) {
    case command_line::action::help:
        std::fputs(coropush::help_text().c_str(), stdout);
        return 0;
    case command_line::action::version:
        std::puts("coropush " COROPUSH_VERSION);
        return 0;
    case command_line::action::error:
        std::fprintf(stderr, "coropush: %s\nTry 'coropush --help'.\n", parsed.message.c_str());
        return 2;
    case command_line::action::run:
        break;
    }
    auto options = parsed.options;
    coropush::logger::set_level(options.log);
    raise_open_file_limit(options.max_connections);

    unsigned const threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    options.threads = threads;  // the server relies on the exact number (one thread: no strands)
    asio::io_context io(static_cast<int>(threads));

    std::optional<coropush::server> server;
    try {
        server.emplace(io, options, coropush::pubsub::make_backplane(options, io));
    } catch (std::exception const& e) {
        coropush::log_error(0, "cannot start: ", e.what());
        return 1;
    }

    // SIGHUP: read the TLS certificate and key again. It runs on an io thread, for as long as it
    // takes to read two files of at most 1 MiB and parse a key: a millisecond or so, once per
    // operator action, against a thread per core for everything else.
    auto signal_strand = asio::make_strand(io);
    asio::signal_set reload_signals(signal_strand, SIGHUP);
    std::function<void(boost::system::error_code, int)> on_reload = [&](boost::system::error_code ec, int) {
        if (ec)
            return;
        server->reload_tls();
        reload_signals.async_wait(on_reload);
    };
    reload_signals.async_wait(on_reload);

    // First SIGINT/SIGTERM: graceful shutdown. A second one while that runs: leave at once.
    asio::signal_set signals(signal_strand, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec)
            return;
        coropush::log_info(0, "signal ", signal, ": shutting down gracefully (again to force)");
        server->shutdown([&] {
            asio::post(signal_strand, [&] {
                signals.cancel();
                reload_signals.cancel();
            });
        });
        signals.async_wait([](boost::system::error_code again, int) {
            if (again)
                return;
            coropush::log_warn(0, "second signal: exiting now");
            std::_Exit(1);
        });
    });

    server->start();
    coropush::log_info(0, "serving with ", threads, " io thread(s); open ", server->tls() ? "https" : "http", "://",
                       server->endpoint(), "/");

    auto run = [&io] {
        try {
            io.run();
        } catch (std::exception const& e) {
            coropush::log_error(0, "io thread failed: ", e.what());
            std::_Exit(1);
        }
    };
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back(run);
    run();
    for (auto& t : pool)
        t.join();
    return 0;
}
