// The server's shards: one per io thread, each a strand, or the io_context itself when one thread
// runs it. A connection is placed on one (round-robin) for its whole life, and everything of it
// runs there: its coroutines, its deadlines (deadline_scheduler shards the same way) and its part
// of every fan-out (the topic hub hands each shard a publish once, not each subscriber).
//
// Why not a strand per connection: a fan-out to 10 000 subscribers would then cost 10 000
// dispatches, each taking a strand's lock and posting a handler. On a shard, one hand-off per io
// thread reaches all of them, and pushing to each is a plain call.
#pragma once

#include "core/fanout_shards.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstddef>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace coropush::net {

class server_shards final : public fanout_shards {
public:
    // `threads`: how many threads run `io` (the exact number: with 1, there is no strand).
    server_shards(boost::asio::io_context& io, unsigned threads);

    std::size_t size() const noexcept override { return executors_.size(); }
    boost::asio::any_io_executor const& executor(std::size_t index) const { return executors_.at(index); }
    std::vector<boost::asio::any_io_executor> const& executors() const noexcept { return executors_; }

    // Any thread: the shard for the next connection.
    std::size_t next() noexcept { return next_.fetch_add(1, std::memory_order_relaxed) % executors_.size(); }

    // fanout_shards: posted to the shard's strand, behind what it already holds, so that every
    // subscriber of a shard sees messages in the order they were handed out. With one io thread,
    // dispatched instead: published from the io thread (every publisher is), it runs at once.
    void run(std::size_t index, std::function<void()> part) override;

private:
    std::vector<boost::asio::any_io_executor> executors_;
    bool one_thread_;
    std::atomic<std::size_t> next_{0};
};

}  // namespace coropush::net
