// The signature check, the one place that talks to OpenSSL's signature interfaces.
#pragma once

#include "auth/token_verifier.hpp"

#include <string_view>

namespace coropush::auth {

// Whether `token`'s signature verifies with `key` under `algorithm`, and the token names that
// algorithm. An empty key verifies nothing.
bool signature_verifies(std::string_view token, token_algorithm algorithm, std::string_view key);

// Whether `pem` is a public key RS256 (RSA) or ES256 (EC on P-256) can verify with.
bool usable_public_key(std::string_view pem, token_algorithm algorithm);

}  // namespace coropush::auth
