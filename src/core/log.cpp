// The process-wide logger: level, line format and sink.
#include "core/log.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace coropush {
namespace {

std::atomic<log_level> current_level{log_level::info};

std::mutex sink_mutex;
logger::sink current_sink;  // guarded by sink_mutex; empty: stderr

constexpr std::array<std::string_view, 6> level_names{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"};

std::string timestamp()
{
    auto const now = std::chrono::system_clock::now();
    auto const seconds = std::chrono::system_clock::to_time_t(now);
    auto const millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    std::size_t n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text.data() + n, text.size() - n, ".%03dZ", static_cast<int>(millis));
    return text.data();
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view name)
{
    constexpr std::array<std::string_view, 6> names{"trace", "debug", "info", "warn", "error", "off"};
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == name)
            return static_cast<log_level>(i);
    return std::nullopt;
}

std::string millis(std::chrono::steady_clock::duration d)
{
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

std::string_view to_string(log_level level)
{
    return level_names.at(static_cast<std::size_t>(level));
}

void logger::set_level(log_level level) noexcept
{
    current_level.store(level, std::memory_order_relaxed);
}

log_level logger::level() noexcept
{
    return current_level.load(std::memory_order_relaxed);
}

void logger::set_sink(sink s)
{
    std::lock_guard lock(sink_mutex);
    current_sink = std::move(s);
}

void logger::write(log_level level, std::uint64_t session, std::string_view message)
{
    std::string line = timestamp();
    line += ' ';
    line += to_string(level);
    line += session == 0 ? std::string(" [-] ") : " [session " + std::to_string(session) + "] ";
    // A message may quote what a client sent (a token's subject): its control characters are
    // written as \xNN, so that one event stays one line and no client can forge another.
    for (char const c : message) {
        auto const byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            line += c;
            continue;
        }
        constexpr char digits[] = "0123456789abcdef";
        line += "\\x";
        line += digits[byte >> 4];
        line += digits[byte & 0xf];
    }
    line += '\n';

    std::lock_guard lock(sink_mutex);
    if (current_sink) {
        current_sink(line);
        return;
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
}

void log_exceptions::operator()(std::exception_ptr e) const
{
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (std::exception const& what) {
        log_error(0, what_, " ended by an exception: ", what.what());
    } catch (...) {
        log_error(0, what_, " ended by an exception of an unknown type");
    }
}

}  // namespace coropush
