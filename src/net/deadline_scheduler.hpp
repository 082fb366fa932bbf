// One timer per io thread for the deadlines of every session: keep-alive pings, the closing
// handshake's time limit, a token's expiry, the demo's notice a second after the welcome.
//
// A steady_timer per session costs its memory while the session idles, and a wake-up of its own;
// most sessions spend their life waiting for one deadline that is nearly always moved before it
// comes (a ping is due one interval after the last word heard). So sessions hand their deadlines
// to this scheduler instead: a few shards (one per io thread), each a heap of (time, session)
// under a mutex and one timer set to the earliest entry. When an entry is due, the session is
// told on its own executor (deadline_owner::deadline_reached) and decides what is due, if
// anything. The server's shards are the same as its sessions' (server_shards.hpp), so that is
// where the timer already runs. One wake-up of the timer also tells the owners whose time comes
// while it runs, for a bounded time, so that a burst of deadlines is not delayed by a wait through
// the reactor per round.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace coropush::net {

class deadline_owner {
public:
    using clock = std::chrono::steady_clock;
    virtual ~deadline_owner() = default;
    // Where deadline_reached runs (a session's shard).
    virtual boost::asio::any_io_executor const& get_executor() const noexcept = 0;
    // A time asked for with deadline_scheduler::at has come (`when`, or a little later).
    virtual void deadline_reached(clock::time_point when) = 0;
};

class deadline_scheduler {
public:
    using clock = std::chrono::steady_clock;

    // `executors`: one per shard (a strand each when the io_context runs on several threads).
    explicit deadline_scheduler(std::vector<boost::asio::any_io_executor> const& executors);
    ~deadline_scheduler();
    deadline_scheduler(deadline_scheduler const&) = delete;
    deadline_scheduler& operator=(deadline_scheduler const&) = delete;

    // Any thread: tell `owner` when `when` has come, on its executor, unless it has ended by then
    // (the scheduler keeps only a weak reference). `key` picks the shard: key % shards (a
    // connection's shard, so that its deadlines fire where it runs).
    void at(clock::time_point when, std::weak_ptr<deadline_owner> owner, std::size_t key);

    // Any thread: drop every entry and stop the timers (server shutdown). at() is a no-op after.
    void stop();

    // Entries held, over all shards (tests, metrics).
    std::size_t pending() const;

private:
    struct shard;
    std::vector<std::shared_ptr<shard>> shards_;
};

}  // namespace coropush::net
