// The message types features add to the coropush.v1 dialect.
#include "service/json_extensions.hpp"

#include <algorithm>

namespace coropush::service {
namespace {

// True for the entry of `type`, for find_if over json_extensions' handlers.
auto registered_as(std::string_view type)
{
    return [type](auto const& entry) { return entry.first == type; };
}

}  // namespace

void json_extensions::add(std::string_view type, handler handle)
{
    auto const known = std::find_if(handlers_.begin(), handlers_.end(), registered_as(type));
    if (known != handlers_.end())
        known->second = std::move(handle);
    else
        handlers_.emplace_back(type, std::move(handle));
}

json_extensions::handler const* json_extensions::find(std::string_view type) const noexcept
{
    auto const known = std::find_if(handlers_.begin(), handlers_.end(), registered_as(type));
    return known == handlers_.end() ? nullptr : &known->second;
}

}  // namespace coropush::service
