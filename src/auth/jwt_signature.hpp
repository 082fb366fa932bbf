// The signature check, the one place that talks to libjwt (its header stays out of the rest).
#pragma once

#include "auth/token_verifier.hpp"

#include <string_view>

namespace coropush::auth {

// Whether `token`'s signature verifies with `key` under `algorithm`, and the token names that
// algorithm. An empty key verifies nothing.
bool signature_verifies(std::string_view token, token_algorithm algorithm, std::string_view key);

}  // namespace coropush::auth
