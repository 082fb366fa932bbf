// coropush-bench: a WebSocket load tool as one io_context full of client coroutines.
//
//   coropush-bench conns  --port P --conns N --hold S [--ready-file F]
//   coropush-bench echo   --port P --conns N --depth D --seconds S --size B
//   coropush-bench fanout --port P --subs N --msgs M --size B
//   coropush-bench apifanout --port P --subs N --msgs M --size B --api-key-file F
//   coropush-bench churn  --port P --workers W --seconds S
//   coropush-bench seed   --port P --conns N
//   common: --host 127.0.0.1 --path / --batch 200 --timeout S
//   wss:// (all but apifanout): --tls with --tls-ca FILE (verify) or --tls-no-verify (don't)
//
// Each prints one final line of key=value pairs. Exit status: 0 ok, 1 a wrong reply or a
// protocol violation, 2 a bad command line, 3 incomplete (failed connections, unexpected closes,
// the --timeout reached).
#include "load/tls_client.hpp"
#include "load/workloads.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace {

int usage()
{
    std::fputs("usage: coropush-bench conns|echo|fanout|apifanout|churn|seed --port P [--host H] [--path /]\n"
               "       [--conns N] [--depth D] [--size B] [--subs N] [--msgs M] [--workers W] [--seconds S]\n"
               "       [--hold S] [--batch N] [--timeout S] [--ready-file F] [--protocol NAME]\n"
               "       [--api-key-file F] [--tls (--tls-ca FILE | --tls-no-verify)]\n"
               "  --tls            speak wss:// (TLS 1.2 or 1.3, a full handshake per connection);\n"
               "                   not with apifanout, whose publisher speaks plain HTTP\n"
               "  --tls-ca FILE    verify the server's certificate: it must chain to the PEM\n"
               "                   certificate(s) in FILE and name the --host address\n"
               "  --tls-no-verify  verify nothing (any certificate is taken): only for benchmarking\n"
               "                   a server whose CA the tool does not have; one of the two is required\n",
               stderr);
    return 2;
}

std::optional<std::size_t> number(std::string const& text)
{
    std::size_t value = 0;
    auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// The server API's key: the whole file less a trailing newline, as the server reads it. (Never a
// command-line value: any local user can read a process's command line.)
std::optional<std::string> key_from(std::string const& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file.is_open())
        return std::nullopt;
    std::string key((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
        key.pop_back();
    if (key.empty())
        return std::nullopt;
    return key;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        return usage();
    std::string const mode = argv[1];
    // "--name value" pairs, and flags that stand alone.
    std::set<std::string> const flags{"tls", "tls-no-verify"};
    std::map<std::string, std::string> args;
    for (int i = 2; i < argc; ++i) {
        std::string const key = argv[i];
        if (!key.starts_with("--"))
            return usage();
        auto name = key.substr(2);
        if (flags.contains(name)) {
            args[name] = "";
        } else if (i + 1 < argc) {
            args[name] = argv[++i];
        } else {
            return usage();
        }
    }
    if (!args.contains("port"))
        return usage();

    bench::settings s;
    auto const get = [&](char const* key, std::size_t& into) {
        if (auto it = args.find(key); it != args.end()) {
            auto const n = number(it->second);
            if (!n)
                return false;
            into = *n;
        }
        return true;
    };
    std::size_t port = 0, seconds = 10, hold = 8, timeout = 0;
    if (!get("port", port) || !get("conns", s.conns) || !get("depth", s.depth) || !get("size", s.size) ||
        !get("subs", s.subs) || !get("msgs", s.msgs) || !get("workers", s.workers) || !get("batch", s.batch) ||
        !get("seconds", seconds) || !get("hold", hold) || !get("timeout", timeout) || port > 65535 || s.size > 3000)
        return usage();
    s.seconds = std::chrono::seconds(seconds);
    s.hold = std::chrono::seconds(hold);
    auto const host = args.contains("host") ? args["host"] : std::string("127.0.0.1");
    boost::system::error_code ec;
    auto const address = boost::asio::ip::make_address(host, ec);
    if (ec)
        return usage();
    s.where.endpoint = {address, static_cast<std::uint16_t>(port)};
    s.where.host = host + ":" + std::to_string(port);
    if (args.contains("path"))
        s.where.path = args["path"];
    if (args.contains("protocol"))
        s.subprotocol = args["protocol"];
    if (args.contains("ready-file"))
        s.ready_file = args["ready-file"];
    if (args.contains("api-key-file")) {
        auto key = key_from(args["api-key-file"]);
        if (!key) {
            std::fprintf(stderr, "coropush-bench: cannot read a key from %s\n", args["api-key-file"].c_str());
            return usage();
        }
        s.api_key = std::move(*key);
    }
    // TLS: verified against a CA, or explicitly not at all; the choice is never left implicit.
    bool const tls = args.contains("tls");
    bool const no_verify = args.contains("tls-no-verify");
    bool const ca = args.contains("tls-ca");
    if (tls != (no_verify || ca) || (no_verify && ca)) {
        std::fputs("coropush-bench: --tls needs exactly one of --tls-ca FILE and --tls-no-verify\n", stderr);
        return usage();
    }
    if (tls && mode == "apifanout") {
        std::fputs("coropush-bench: apifanout speaks plain HTTP only\n", stderr);
        return usage();
    }
    if (tls) {
        std::string error;
        s.where.tls = bench::make_tls_context(ca ? args["tls-ca"] : std::string(), host, error);
        if (!s.where.tls) {
            std::fprintf(stderr, "coropush-bench: %s\n", error.c_str());
            return usage();
        }
    }
    s.timeout = std::chrono::seconds(timeout != 0 ? timeout : seconds + hold + 120);

    // Tens of thousands of sockets: take every file descriptor the hard limit allows.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }

    using workload = boost::asio::awaitable<int> (*)(bench::settings const&);
    std::map<std::string, workload> const workloads{{"conns", bench::run_conns},   {"echo", bench::run_echo},
                                                    {"fanout", bench::run_fanout}, {"apifanout", bench::run_apifanout},
                                                    {"churn", bench::run_churn},   {"seed", bench::run_seed}};
    auto const chosen = workloads.find(mode);
    if (chosen == workloads.end())
        return usage();

    // One thread, one io_context: the concurrency hint lets Asio skip its locks.
    boost::asio::io_context io(1);
    int rc = 3;
    boost::asio::co_spawn(io, chosen->second(s), [&](std::exception_ptr e, int result) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (std::exception const& what) {
                std::printf("mode=%s error=\"%s\" rc=3\n", mode.c_str(), what.what());
            }
            rc = 3;
        } else {
            rc = result;
        }
        io.stop();
    });
    // Bounded whatever the server does.
    boost::asio::steady_timer deadline(io, s.timeout);
    deadline.async_wait([&](boost::system::error_code error) {
        if (error)
            return;
        std::printf("mode=%s timeout_s=%lld rc=3\n", mode.c_str(), static_cast<long long>(s.timeout.count()));
        std::fflush(stdout);
        std::_Exit(3);
    });
    io.run();
    std::fflush(stdout);
    return rc;
}
