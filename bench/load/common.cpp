// What the workloads share: ramping connections up, message texts, reading numbers out of JSON.
#include "load/stats.hpp"
#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>

namespace bench {
namespace asio = boost::asio;

asio::awaitable<opened> open_many(settings const& s, std::size_t count, std::string_view subprotocol)
{
    auto executor = co_await asio::this_coro::executor;
    opened result;
    result.conns.resize(count);
    auto const started = clock::now();
    std::size_t next = 0;
    // `batch` workers take the next index until all are done: at most `batch` handshakes at once.
    auto worker = [&]() -> asio::awaitable<void> {
        while (next < count) {
            auto const i = next++;
            auto conn = std::make_unique<ws_conn>(executor);
            auto const error = co_await conn->open(s.where, subprotocol);
            if (error.empty()) {
                result.conns[i] = std::move(conn);
            } else {
                ++result.failed;
                if (result.first_error.empty())
                    result.first_error = error;
            }
        }
    };
    task_group workers(executor);
    for (std::size_t w = 0; w < std::min(s.batch, count); ++w)
        workers.spawn(worker());
    co_await workers.wait();
    std::erase_if(result.conns, [](auto const& c) { return !c; });
    result.ramp_seconds = std::chrono::duration<double>(clock::now() - started).count();
    co_return result;
}

std::string filler_text(std::string_view prefix, std::uint64_t n, std::size_t size)
{
    std::string text(prefix);
    text += std::to_string(n);
    text += ' ';
    if (text.size() < size)
        text.append(size - text.size(), 'x');
    return text;
}

bool find_number(std::string_view json, std::string_view key, std::uint64_t& value)
{
    std::string needle = "\"";
    needle.append(key).append("\":");
    auto const at = json.find(needle);
    if (at == std::string_view::npos)
        return false;
    auto const begin = json.data() + at + needle.size();
    auto const [end, ec] = std::from_chars(begin, json.data() + json.size(), value);
    return ec == std::errc() && end != begin;
}

}  // namespace bench
