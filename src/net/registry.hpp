// Every open connection of the server, by id: what graceful shutdown walks to say goodbye, and
// what a forced stop walks to drop. Thread-safe (one mutex; held only to copy or edit the table).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace coropush::net {

class connection;

class connection_registry {
public:
    // Keeps a connection listed for as long as it lives (the session holds it: run_session's
    // frame, then the WebSocket session object).
    class entry {
    public:
        entry(connection_registry& registry, std::shared_ptr<connection> const& c);
        entry(entry&& other) noexcept
            : registry_(std::exchange(other.registry_, nullptr)),
              id_(other.id_)
        {
        }
        entry(entry const&) = delete;
        entry& operator=(entry const&) = delete;
        entry& operator=(entry&&) = delete;
        ~entry();

    private:
        connection_registry* registry_;
        std::uint64_t id_;
    };

    std::vector<std::shared_ptr<connection>> snapshot() const;
    std::size_t size() const;

    // Called (outside the lock) each time a connection leaves the table.
    void on_remove(std::function<void(std::size_t remaining)> callback);

private:
    void add(std::shared_ptr<connection> const& c);
    void remove(std::uint64_t id);

    mutable std::mutex mutex_;
    std::unordered_map<std::uint64_t, std::weak_ptr<connection>> connections_;  // guarded by mutex_
    std::function<void(std::size_t)> on_remove_;                                // guarded by mutex_
};

}  // namespace coropush::net
