// Topic names, as the protocol defines them: what a client may subscribe or publish to, checked
// before a name reaches the hub, the backplane or a permission check.
#pragma once

#include <cstddef>
#include <string_view>

namespace coropush {

// 1..max_length characters from [A-Za-z0-9._:/-]: safe in logs, metrics and Redis channel names.
bool valid_topic_name(std::string_view topic, std::size_t max_length) noexcept;

}  // namespace coropush
