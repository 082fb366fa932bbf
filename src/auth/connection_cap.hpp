// How many connections each client address has open, for --max-connections-per-ip.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coropush::auth {

// A plain counter with no locking: the caller keeps it on one strand (or behind a mutex), and
// calls close() exactly once for each try_open() that returned true.
class connection_cap {
public:
    // `limit` 0: no cap, but connections are still counted.
    explicit connection_cap(std::size_t limit) noexcept;

    // Counts one more connection from `address` and returns true, or returns false (and counts
    // nothing) when the address already has `limit` open.
    bool try_open(std::string_view address);

    // Counts one connection from `address` less. An address at zero is forgotten, so the table
    // holds only addresses that are connected.
    void close(std::string_view address);

    std::size_t open_from(std::string_view address) const;
    std::size_t addresses() const noexcept { return open_.size(); }

private:
    std::size_t limit_;
    std::unordered_map<std::string, std::size_t> open_;
};

}  // namespace coropush::auth
