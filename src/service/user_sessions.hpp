// The open sessions of each authenticated user, so that the application's backend can reach one
// person wherever they are connected (disconnect them when they log out or are banned).
// Thread-safe: sessions on every io thread add and remove themselves; the backend reads.
#pragma once

#include "core/outbound.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace coropush::service {

class user_sessions {
public:
    // `session` has authenticated as `user`. Listed until remove(), or until it is gone.
    void add(std::string const& user, std::shared_ptr<push_target> const& session);
    void remove(std::string const& user, std::uint64_t session_id);

    // The sessions of `user` that are still alive.
    std::vector<std::shared_ptr<push_target>> of(std::string_view user) const;
    // Users with at least one session listed.
    std::size_t users() const;

private:
    struct entry {
        std::uint64_t id;
        std::weak_ptr<push_target> session;  // weak: the listing never keeps a session alive
    };
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<entry>, std::less<>> sessions_;  // guarded by mutex_
};

}  // namespace coropush::service
