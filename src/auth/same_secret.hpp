// Comparing a presented secret (an API key, an admin token) with the configured one.
#pragma once

#include <string_view>

namespace coropush::auth {

// True when both are the same bytes. The comparison has no early exit, so the time it takes says
// nothing about how much of a guess was right (only whether its length was, which a long random
// secret can afford to reveal).
bool same_secret(std::string_view given, std::string_view expected) noexcept;

}  // namespace coropush::auth
