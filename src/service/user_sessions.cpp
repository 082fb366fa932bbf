// The table of sessions by user.
#include "service/user_sessions.hpp"

#include <algorithm>

namespace coropush::service {

void user_sessions::add(std::string const& user, std::shared_ptr<push_target> const& session)
{
    std::lock_guard lock(mutex_);
    sessions_[user].push_back({session->id(), session});
}

void user_sessions::remove(std::string const& user, std::uint64_t session_id)
{
    std::lock_guard lock(mutex_);
    auto const found = sessions_.find(user);
    if (found == sessions_.end())
        return;
    std::erase_if(found->second, [&](entry const& e) { return e.id == session_id; });
    if (found->second.empty())
        sessions_.erase(found);  // only connected users are kept
}

std::vector<std::shared_ptr<push_target>> user_sessions::of(std::string_view user) const
{
    std::vector<std::shared_ptr<push_target>> alive;
    std::lock_guard lock(mutex_);
    auto const found = sessions_.find(user);
    if (found == sessions_.end())
        return alive;
    for (auto const& e : found->second)
        if (auto session = e.session.lock())
            alive.push_back(std::move(session));
    return alive;
}

std::size_t user_sessions::users() const
{
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

}  // namespace coropush::service
