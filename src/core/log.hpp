// One line per event: UTC timestamp, level, session id (or "-"), message (its control characters
// escaped as \xNN). Thread-safe; a line is written with one call so lines from several io threads
// never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace coropush {

enum class log_level { trace, debug, info, warn, error, off };

std::optional<log_level> parse_log_level(std::string_view name);
std::string_view to_string(log_level level);

// "250 ms": a duration as log lines show it.
std::string millis(std::chrono::steady_clock::duration d);

class logger {
public:
    static void set_level(log_level level) noexcept;
    static log_level level() noexcept;
    static bool enabled(log_level level) noexcept { return level >= logger::level(); }

    // Formats and writes one line. Session 0 means "not about one session".
    static void write(log_level level, std::uint64_t session, std::string_view message);

    // Where lines go (stderr by default). Tests install a sink to look at what was logged.
    using sink = std::function<void(std::string_view line)>;
    static void set_sink(sink s);
};

// log(level, session, parts...): the parts are streamed one after another, only when the level
// is enabled, so a disabled debug line costs one comparison.
template <class... Parts>
void log(log_level level, std::uint64_t session, Parts const&... parts)
{
    if (!logger::enabled(level))
        return;
    std::ostringstream out;
    (out << ... << parts);
    logger::write(level, session, out.view());
}

template <class... Parts>
void log_debug(std::uint64_t session, Parts const&... parts)
{
    log(log_level::debug, session, parts...);
}
template <class... Parts>
void log_info(std::uint64_t session, Parts const&... parts)
{
    log(log_level::info, session, parts...);
}
template <class... Parts>
void log_warn(std::uint64_t session, Parts const&... parts)
{
    log(log_level::warn, session, parts...);
}
template <class... Parts>
void log_error(std::uint64_t session, Parts const&... parts)
{
    log(log_level::error, session, parts...);
}

// The completion handler of every co_spawn in the server: a coroutine that ends by an exception
// (a bug or a broken invariant; a bad client or a lost peer is a value, not an exception) is
// logged as an error naming what it was, where `detached` would lose it silently.
class log_exceptions {
public:
    explicit log_exceptions(std::string what)
        : what_(std::move(what))
    {
    }
    void operator()(std::exception_ptr e) const;

private:
    std::string what_;
};

}  // namespace coropush
