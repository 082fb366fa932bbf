// Child processes: posix_spawn, a pipe for the captured output, and a pidfd to await the exit.
#include "support/child_process.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef COROPUSH_EXECUTABLE
#error "COROPUSH_EXECUTABLE must be defined by the build"
#endif

extern char** environ;

namespace coropush::testing {
namespace asio = boost::asio;

std::string coropush_executable()
{
    return COROPUSH_EXECUTABLE;
}

std::uint16_t port_from_log_line(std::string_view line)
{
    auto const at = line.find("listening on ");
    if (at == std::string_view::npos)
        throw std::runtime_error("not a listening line: " + std::string(line));
    auto const rest = line.substr(at + 13);
    auto const colon = rest.find(':');
    return static_cast<std::uint16_t>(std::stoul(std::string(rest.substr(colon + 1))));
}

struct child_process::impl {
    impl(asio::any_io_executor ex)
        : output_pipe(ex),
          exit_watch(ex)
    {
    }
    pid_t pid = -1;
    bool reaped = false;
    int status = 0;
    asio::posix::stream_descriptor output_pipe;
    asio::posix::stream_descriptor exit_watch;  // a pidfd: readable once the child has exited
    std::string output;
    std::size_t scanned = 0;  // output before this offset has been matched against
};

child_process::child_process(asio::any_io_executor executor, std::string program, std::vector<std::string> args,
                             captured_output captured)
    : impl_(std::make_unique<impl>(executor))
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe2");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (captured == captured_output::standard_error) {
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    } else {
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    }

    std::vector<char*> argv;
    argv.push_back(program.data());
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    int const failed = posix_spawn(&impl_->pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (failed != 0) {
        ::close(pipe_fds[0]);
        throw std::system_error(failed, std::generic_category(), "posix_spawn " + program);
    }
    impl_->output_pipe.assign(pipe_fds[0]);

    int const pidfd = static_cast<int>(::syscall(SYS_pidfd_open, impl_->pid, 0));
    if (pidfd < 0)
        throw std::system_error(errno, std::generic_category(), "pidfd_open");
    impl_->exit_watch.assign(pidfd);
}

child_process::~child_process()
{
    if (impl_->pid > 0 && !impl_->reaped) {
        ::kill(impl_->pid, SIGKILL);
        ::waitpid(impl_->pid, nullptr, 0);
    }
}

pid_t child_process::pid() const noexcept
{
    return impl_->pid;
}

void child_process::signal(int number)
{
    if (::kill(impl_->pid, number) != 0)
        throw std::system_error(errno, std::generic_category(), "kill");
}

std::string const& child_process::output() const noexcept
{
    return impl_->output;
}

asio::awaitable<std::string> child_process::wait_for_line(std::string_view text)
{
    std::vector<std::string> one{std::string(text)};
    co_return co_await wait_for_any_line(std::move(one));
}

asio::awaitable<std::string> child_process::wait_for_any_line(std::vector<std::string> wanted)
{
    auto const matches = [&](std::string const& line) {
        for (auto const& w : wanted)
            if (line.find(w) != std::string::npos)
                return true;
        return false;
    };
    auto& out = impl_->output;
    for (;;) {
        // Look through the complete lines not yet matched.
        while (true) {
            auto const end = out.find('\n', impl_->scanned);
            if (end == std::string::npos)
                break;
            std::string line = out.substr(impl_->scanned, end - impl_->scanned);
            impl_->scanned = end + 1;
            if (matches(line))
                co_return line;
        }
        char chunk[4096];
        boost::system::error_code ec;
        auto const n = co_await impl_->output_pipe.async_read_some(asio::buffer(chunk),
                                                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec)
            throw std::runtime_error("child's output ended before a line with \"" + wanted.front() + "\"; it said:\n" +
                                     out);
        out.append(chunk, n);
    }
}

asio::awaitable<int> child_process::wait_for_exit()
{
    if (!impl_->reaped) {
        // The rest of what it says; its output ends when it exits.
        for (;;) {
            char chunk[4096];
            boost::system::error_code ec;
            auto const n = co_await impl_->output_pipe.async_read_some(asio::buffer(chunk),
                                                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec)
                break;
            impl_->output.append(chunk, n);
        }
        co_await impl_->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
        ::waitpid(impl_->pid, &impl_->status, 0);
        impl_->reaped = true;
    }
    int const status = impl_->status;
    co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace coropush::testing
