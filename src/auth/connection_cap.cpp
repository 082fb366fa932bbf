// The per-address connection counter.
#include "auth/connection_cap.hpp"

namespace coropush::auth {

connection_cap::connection_cap(std::size_t limit) noexcept
    : limit_(limit)
{
}

bool connection_cap::try_open(std::string_view address)
{
    auto& count = open_[std::string(address)];
    if (limit_ != 0 && count >= limit_)
        return false;
    ++count;
    return true;
}

void connection_cap::close(std::string_view address)
{
    auto const found = open_.find(std::string(address));
    if (found == open_.end())
        return;  // an unmatched close: nothing to undo, and no count may go below zero
    if (--found->second == 0)
        open_.erase(found);
}

std::size_t connection_cap::open_from(std::string_view address) const
{
    auto const found = open_.find(std::string(address));
    return found == open_.end() ? 0 : found->second;
}

}  // namespace coropush::auth
