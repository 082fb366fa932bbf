// Signature verification with libjwt (1.10 on Debian 12, 1.15+ elsewhere: only the API both have).
#include "auth/jwt_signature.hpp"

#include <jwt.h>

#include <climits>
#include <memory>
#include <string>

namespace coropush::auth {
namespace {

jwt_alg_t libjwt_algorithm(token_algorithm algorithm) noexcept
{
    switch (algorithm) {
    case token_algorithm::hs256:
        return JWT_ALG_HS256;
    case token_algorithm::rs256:
        return JWT_ALG_RS256;
    case token_algorithm::es256:
        return JWT_ALG_ES256;
    }
    return JWT_ALG_INVAL;
}

}  // namespace

bool signature_verifies(std::string_view token, token_algorithm algorithm, std::string_view key)
{
    // jwt_decode skips the signature check when it is given no key: an empty key must never get there.
    if (key.empty() || key.size() > INT_MAX)
        return false;
    std::string const terminated(token);  // libjwt reads a C string
    jwt_t* decoded = nullptr;
    int const failed = jwt_decode(&decoded, terminated.c_str(), reinterpret_cast<unsigned char const*>(key.data()),
                                  static_cast<int>(key.size()));
    std::unique_ptr<jwt_t, decltype(&jwt_free)> const owner(decoded, &jwt_free);
    // jwt_decode verifies with whatever algorithm the token names: an HS256 token whose HMAC key
    // is our RSA public key passes it. So the algorithm it used must also be the configured one.
    return failed == 0 && decoded != nullptr && jwt_get_alg(decoded) == libjwt_algorithm(algorithm);
}

}  // namespace coropush::auth
