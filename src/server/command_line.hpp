// The server's command line: --name VALUE or --name=VALUE for every field of server_options, and
// the same options from the environment as COROPUSH_NAME (COROPUSH_BACKPLANE for --backplane,
// COROPUSH_MAX_CONNECTIONS for --max-connections): the usual way to configure a container. The
// command line wins over the environment. One table in command_line.cpp lists each option with
// its help text, parser and default, so --help, the parsers and the defaults cannot drift apart.
#pragma once

#include "config/options.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coropush {

struct command_line {
    enum class action { run, help, version, error };
    action what = action::run;
    server_options options;
    std::string message;  // the error, for action::error
};

// Looks a variable up in the environment (std::getenv for the real one; tests pass a map).
using environment_lookup = std::function<std::optional<std::string>(std::string const& name)>;

command_line parse_command_line(std::vector<std::string_view> const& args, environment_lookup const& environment = {});
// argv, and the process environment.
command_line parse_command_line(int argc, char const* const* argv);

// "max-connections" -> "COROPUSH_MAX_CONNECTIONS".
std::string environment_name(std::string_view option);

// The --help text: usage, then every option with its default.
std::string help_text();

// Every option name ("--port", ...), for tests that check the docs list them all.
std::vector<std::string> option_names();

// "250ms", "1s", "2m", "1h" (and "0") -> duration; nothing if malformed or past what `duration`
// holds (the options then refuse anything over 24h).
std::optional<duration> parse_duration(std::string_view text);
// "65536", "64k", "16m" (powers of 1024) -> bytes; nothing if malformed.
std::optional<std::size_t> parse_size(std::string_view text);

}  // namespace coropush
