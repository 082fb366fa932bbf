// Where the topic hub runs each shard's part of a fan-out. A server's shards are its io threads
// (net/server_shards.hpp); a connection lives on one of them, and a publish is handed to each
// shard that has subscribers once, not to each subscriber.
#pragma once

#include <cstddef>
#include <functional>

namespace coropush {

class fanout_shards {
public:
    virtual ~fanout_shards() = default;

    virtual std::size_t size() const noexcept = 0;

    // Any thread: runs `part` on shard `index`, after the parts handed to that shard before it.
    // Never while the caller holds a lock `part` could need: a shard may run it at once.
    virtual void run(std::size_t index, std::function<void()> part) = 0;
};

// One shard, run at once on the caller's thread: for a hub whose subscribers all live on the
// thread that publishes (the unit tests, the benchmarks).
inline fanout_shards& one_shard_at_once()
{
    class at_once final : public fanout_shards {
    public:
        std::size_t size() const noexcept override { return 1; }
        void run(std::size_t, std::function<void()> part) override { part(); }
    };
    static at_once shard;  // stateless: shared by every hub that uses it
    return shard;
}

}  // namespace coropush
