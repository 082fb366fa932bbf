// The closer's thread: takes the descriptors that wait, all at once, and closes them.
#include "net/socket_closer.hpp"

#include "core/log.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace coropush::net {

socket_closer::socket_closer(gauge& waiting, std::size_t limit, close_function closing)
    : waiting_(waiting),
      limit_(limit),
      close_(closing)
{
}

void socket_closer::close_descriptor(int descriptor) noexcept
{
    ::close(descriptor);
}

socket_closer::~socket_closer()
{
    stop();
}

std::size_t socket_closer::default_limit() noexcept
{
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY)
        return 1024;
    return std::max<std::size_t>(16, files.rlim_cur / 2);
}

void socket_closer::close(boost::asio::ip::tcp::socket& socket) noexcept
{
    if (!socket.is_open() || defer(socket))
        return;
    boost::system::error_code ignored;
    socket.close(ignored);  // at once: the closer has stopped, or too many wait
}

bool socket_closer::defer(boost::asio::ip::tcp::socket& socket) noexcept
{
    std::lock_guard lock(mutex_);
    if (stopped_ || descriptors_.size() + in_hand_ >= limit_)
        return false;
    try {
        if (!thread_.joinable())
            thread_ = std::thread([this] { run(); });
        descriptors_.push_back(-1);  // the room first: nothing can fail once the socket lets go
    } catch (...) {
        return false;  // no thread, or no memory
    }
    boost::system::error_code ec;
    int const fd = socket.release(ec);  // out of the reactor; cancels what was pending
    if (ec) {
        descriptors_.pop_back();
        return false;
    }
    descriptors_.back() = fd;
    waiting_.fetch_add(1, std::memory_order_relaxed);
    wake_.notify_one();
    return true;
}

void socket_closer::stop() noexcept
{
    std::thread thread;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        thread = std::move(thread_);
    }
    wake_.notify_one();
    if (thread.joinable())
        thread.join();
}

void socket_closer::run() noexcept
{
    // The lowest priority there is (on Linux, for this thread alone): the closes wait while the io
    // threads have work on this core. If the system refuses it, the thread runs at the normal
    // priority (then it merely moves the closes off the io threads).
    sched_param param{};
    if (::sched_setscheduler(0, SCHED_IDLE, &param) != 0)
        log_debug(0, "socket closer: SCHED_IDLE refused; closing at the normal priority");
    std::vector<int> taken;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopped_ || !descriptors_.empty(); });
        if (descriptors_.empty())
            return;  // stopped, and nothing left
        taken.swap(descriptors_);
        in_hand_ = taken.size();
        lock.unlock();
        for (int const fd : taken) {
            close_(fd);
            waiting_.fetch_sub(1, std::memory_order_relaxed);
        }
        taken.clear();
        lock.lock();
        in_hand_ = 0;
    }
}

}  // namespace coropush::net
