// Topic name validation.
#include "protocol/topic_name.hpp"

#include <algorithm>

namespace coropush {

bool valid_topic_name(std::string_view topic, std::size_t max_length) noexcept
{
    auto const allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == ':' || c == '/' || c == '-';
    };
    return !topic.empty() && topic.size() <= max_length && std::all_of(topic.begin(), topic.end(), allowed);
}

}  // namespace coropush
