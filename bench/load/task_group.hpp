// Run many client coroutines side by side on one io_context and wait for all of them: the load
// tool's only concurrency primitive. Single-threaded by design (one io_context, one thread), so a
// counter and a timer used as a signal are all it takes.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <exception>

namespace bench {

class task_group {
public:
    explicit task_group(boost::asio::any_io_executor executor)
        : executor_(executor),
          done_(executor)
    {
    }

    void spawn(boost::asio::awaitable<void> task)
    {
        ++running_;
        boost::asio::co_spawn(executor_, std::move(task), [this](std::exception_ptr e) {
            if (e && !failure_)
                failure_ = e;
            if (--running_ == 0)
                done_.cancel();
        });
    }

    // Waits until every spawned task has finished; rethrows the first exception one threw.
    boost::asio::awaitable<void> wait()
    {
        while (running_ > 0) {
            done_.expires_at(boost::asio::steady_timer::time_point::max());
            co_await done_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
        if (failure_)
            std::rethrow_exception(failure_);
    }

    std::size_t running() const noexcept { return running_; }

private:
    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer done_;
    std::size_t running_ = 0;
    std::exception_ptr failure_;
};

// A timer used as a signal between coroutines: wait() until notify().
class signal {
public:
    explicit signal(boost::asio::any_io_executor executor)
        : timer_(executor)
    {
    }
    boost::asio::awaitable<void> wait()
    {
        timer_.expires_at(boost::asio::steady_timer::time_point::max());
        co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    void notify() { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

}  // namespace bench
