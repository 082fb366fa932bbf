// The closer's thread: takes the descriptors that wait, a few dozen at a time, and closes them.
#include "net/socket_closer.hpp"

#include "core/log.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace coropush::net {

namespace {
// The thread takes this many at a time, so that when it is starved mid-way, the rest can still
// be taken over by a caller (see defer()).
constexpr std::size_t closer_takes_at_once = 64;
}  // namespace

socket_closer::socket_closer(gauge& waiting, std::size_t limit, clock::duration max_wait, close_function closing)
    : waiting_(waiting),
      limit_(limit),
      max_wait_(max_wait),
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
    if (!socket.is_open())
        return;
    std::deque<int> overdue;
    if (defer(socket, overdue))
        return;
    boost::system::error_code ignored;
    socket.close(ignored);  // at once: the closer has stopped, or too many wait, or too long
    for (int const fd : overdue)
        closed(fd);
}

bool socket_closer::defer(boost::asio::ip::tcp::socket& socket, std::deque<int>& overdue) noexcept
{
    // Never wait for the lock: the thread that may hold it runs at the lowest priority, and a
    // busy machine could keep it from letting go for a while. Taken: the caller closes the socket.
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock || stopped_)
        return false;
    auto const now = clock::now();
    if (!descriptors_.empty() && now - oldest_ >= max_wait_) {
        // The thread has had no time to close what waits (every core busy): the caller does.
        overdue.swap(descriptors_);
        return false;
    }
    if (descriptors_.size() + in_hand_ >= limit_)
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
    if (descriptors_.size() == 1)
        oldest_ = now;
    waiting_.fetch_add(1, std::memory_order_relaxed);
    wake_.notify_one();
    return true;
}

void socket_closer::closed(int descriptor) noexcept
{
    close_(descriptor);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
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
    taken.reserve(closer_takes_at_once);
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopped_ || !descriptors_.empty(); });
        if (descriptors_.empty())
            return;  // stopped, and nothing left
        // The rest keep `oldest_`, which is then older than they are: a caller takes them over
        // sooner, never later, than `max_wait`.
        auto const n = std::min(closer_takes_at_once, descriptors_.size());
        taken.assign(descriptors_.begin(), descriptors_.begin() + static_cast<std::ptrdiff_t>(n));
        descriptors_.erase(descriptors_.begin(), descriptors_.begin() + static_cast<std::ptrdiff_t>(n));
        in_hand_ = n;
        lock.unlock();
        for (int const fd : taken)
            closed(fd);
        lock.lock();
        in_hand_ = 0;
    }
}

}  // namespace coropush::net
