// The load tool's workloads. Each runs to completion within its time bound and prints one final
// line of key=value pairs (the last line the bench scripts read), and returns the exit status:
// 0 ok, 1 a protocol violation or a wrong reply, 3 incomplete (failed upgrades, unexpected
// closes, timeouts).
#pragma once

#include "load/ws_conn.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace bench {

struct settings {
    target where;
    std::string subprotocol = "coropush.v1";  // the JSON workloads' dialect
    std::size_t conns = 100;
    std::size_t depth = 1;
    std::size_t size = 64;  // text bytes per message
    std::size_t subs = 1000;
    std::size_t msgs = 200;
    std::size_t workers = 8;
    std::size_t batch = 200;  // connections opening at once while ramping up
    std::chrono::seconds seconds{10};
    std::chrono::seconds hold{8};
    std::chrono::seconds timeout{60};  // the whole run, ramp and drain included
    std::string ready_file;
    std::string api_key;  // apifanout: the server API's key (from --api-key-file)
};

boost::asio::awaitable<int> run_conns(settings const& s);
boost::asio::awaitable<int> run_echo(settings const& s);
boost::asio::awaitable<int> run_fanout(settings const& s);
boost::asio::awaitable<int> run_apifanout(settings const& s);
boost::asio::awaitable<int> run_churn(settings const& s);
boost::asio::awaitable<int> run_seed(settings const& s);

// Shared by the workloads: open `count` connections, at most `batch` at a time.
struct opened {
    std::vector<std::unique_ptr<ws_conn>> conns;
    std::size_t failed = 0;
    std::string first_error;
    double ramp_seconds = 0;
};
boost::asio::awaitable<opened> open_many(settings const& s, std::size_t count, std::string_view subprotocol);

// A JSON text of exactly `size` bytes or more: "<prefix><digits>xxxx...".
std::string filler_text(std::string_view prefix, std::uint64_t n, std::size_t size);

// The value after `"<key>":` in a JSON text, read as an unsigned integer (no full parse).
bool find_number(std::string_view json, std::string_view key, std::uint64_t& value);

}  // namespace bench
