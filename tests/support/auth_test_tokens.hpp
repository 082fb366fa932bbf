// Keys and tokens for the tests (the token verifier's, and the integration tests that
// authenticate), made with OpenSSL and libjwt. Their C headers stay in auth_test_tokens.cpp.
#pragma once

#include <string>
#include <string_view>

namespace coropush::auth::test_tokens {

struct key_pair {
    std::string private_pem;
    std::string public_pem;
};

// Generated once per test run: 2048-bit RSA keys and P-256 keys, two of each.
key_pair const& rsa_key();
key_pair const& other_rsa_key();
key_pair const& ec_key();
key_pair const& other_ec_key();

// A token with `claims_json` (a JSON object) as its payload, signed by libjwt with `algorithm`
// ("HS256", "RS256", "ES256", or "none" for an unsigned one) and `key` (the secret or the
// private PEM).
std::string sign(std::string_view algorithm, std::string_view key, std::string const& claims_json);

// A token whose payload is exactly `payload_json`, signed with OpenSSL (libjwt rewrites the claims,
// and refuses some JSON: integers past int64, \u0000): `algorithm` "HS256", "RS256" or "ES256".
std::string sign_exactly(std::string_view algorithm, std::string_view key, std::string_view payload_json);

// header.payload.signature from the given texts, for tokens no library would sign.
std::string craft(std::string_view header_json, std::string_view payload_json, std::string_view signature);

}  // namespace coropush::auth::test_tokens
