// The signature check, the one place that talks to OpenSSL's signature interfaces.
#pragma once

#include "auth/token_verifier.hpp"

#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of every includer

namespace coropush::auth {

// The key tokens' signatures are checked with, read once when the server starts: the HS256
// secret as given, or the RS256/ES256 PEM public key parsed into OpenSSL's form. (Parsed per
// token, as it was, the PEM cost 300-360 us through OpenSSL 3's decoders, against 18 us for an
// RS256 check and 53 us for ES256.) Read-only afterwards: every io thread may use one at once.
class signature_key {
public:
    // A key that is not usable for `algorithm` (a PEM that does not parse, a key of the wrong
    // kind, an empty secret) verifies nothing.
    signature_key(token_algorithm algorithm, std::string_view key);

    // Whether it is a key `algorithm` can verify with: RS256 an RSA public key, ES256 an EC one on
    // P-256, HS256 any non-empty secret.
    bool usable() const noexcept;

    // Whether `token`'s signature verifies with this key under its algorithm.
    bool verifies(std::string_view token) const;

private:
    struct public_key_free {
        void operator()(evp_pkey_st* key) const noexcept;  // EVP_PKEY_free
    };

    token_algorithm algorithm_;
    std::string secret_;                                    // HS256
    std::unique_ptr<evp_pkey_st, public_key_free> public_;  // RS256, ES256 (OpenSSL's EVP_PKEY)
};

// One check with a key read for it alone (tests; the verifier keeps its signature_key).
bool signature_verifies(std::string_view token, token_algorithm algorithm, std::string_view key);

}  // namespace coropush::auth
