// The real coropush executable as a child process, for what only a process can show: signals,
// exit codes, and what it logs. Everything is awaited as events (a log line, the exit), never
// waited for with sleeps.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace coropush::testing {

// Which of the child's outputs the waits below read. The server logs to stderr; the ladder's
// examples (examples/ladder/) print to stdout.
enum class captured_output { standard_error, standard_output };

class child_process {
public:
    // Starts `program` with `args`. Its stderr is captured and its stdout goes to /dev/null; or,
    // with captured_output::standard_output, its stdout is captured and its stderr is the test's.
    child_process(boost::asio::any_io_executor executor, std::string program, std::vector<std::string> args,
                  captured_output captured = captured_output::standard_error);
    ~child_process();  // kills the child if it is still running
    child_process(child_process const&) = delete;
    child_process& operator=(child_process const&) = delete;

    pid_t pid() const noexcept;
    void signal(int number);

    // Reads the captured output until a line contains `text`; returns that line. Throws if the
    // output ends first.
    boost::asio::awaitable<std::string> wait_for_line(std::string_view text);
    // The same for the first line that contains any of `wanted` (a success or a failure line).
    boost::asio::awaitable<std::string> wait_for_any_line(std::vector<std::string> wanted);
    // Waits for the child to exit (reading the rest of its captured output): its exit code, or
    // 128 + the signal that killed it.
    boost::asio::awaitable<int> wait_for_exit();

    // Everything read from the captured output so far.
    std::string const& output() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// The path of the coropush executable this build made.
std::string coropush_executable();

// The port in a "listening on 127.0.0.1:PORT" log line.
std::uint16_t port_from_log_line(std::string_view line);

}  // namespace coropush::testing
