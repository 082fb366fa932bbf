// Checks the signed token (a JWT) a client presents and turns it into an identity, or says why not.
//
// The token's claims (RFC 7519 names, plus two of ours):
//   "sub"        string, required, not empty: the user id (the personal topic is "user:<sub>")
//   "exp"        NumericDate (seconds since 1970), required: tokens that never expire are refused
//   "nbf", "iat" NumericDate, optional: a token not valid yet, or issued in the future, is refused
//   "iss", "aud" checked only when the rules name an issuer or an audience ("aud": string or array)
//   "subscribe"  array of topic patterns (topic_pattern.hpp), optional: what it may subscribe to
//   "publish"    array of topic patterns, optional: what it may publish to
// Times are compared with an allowed clock skew either way. Only the configured algorithm is
// accepted: "none", and an HS256 token offered where RS256 is configured (the public key used
// as an HMAC secret), are refused before the signature or any claim is looked at.
#pragma once

#include "auth/identity.hpp"
#include "auth/token_errc.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace coropush::auth {

enum class token_algorithm { hs256, rs256, es256 };

// "HS256", "RS256", "ES256": the JOSE names, as the token header and the options spell them.
std::string_view to_string(token_algorithm algorithm) noexcept;
std::optional<token_algorithm> parse_token_algorithm(std::string_view text) noexcept;

struct token_error {
    token_errc code;
    std::string message;  // for people: logs and error envelopes; never echoes the token's text
};

using token_result = std::variant<identity, token_error>;

struct token_rules {
    token_algorithm algorithm = token_algorithm::hs256;
    std::string key;  // HS256: the shared secret; RS256/ES256: the PEM public key ("-----BEGIN PUBLIC KEY-----")
    std::chrono::seconds clock_skew{30};
    std::string issuer;                   // empty: "iss" is not checked
    std::string audience;                 // empty: "aud" is not checked
    std::size_t max_token_length = 8192;  // bytes; a longer token is refused unread
    std::size_t max_topic_length = 128;   // of each pattern, as for topic names
};

// What is wrong with `rules` for a start-up error message, or std::nullopt: an HS256 secret
// shorter than 32 bytes (RFC 7518 §3.2), a key that is not a PEM public key for RS256/ES256.
std::optional<std::string> rules_problem(token_rules const& rules);

class signature_key;  // auth/jwt_signature.hpp

class token_verifier {
public:
    using clock = std::function<std::chrono::system_clock::time_point()>;

    // `now` is injected so tests can stand at any time; the server passes the system clock.
    explicit token_verifier(token_rules rules, clock now = std::chrono::system_clock::now);

    // Never throws for bad input: every refusal is a token_error.
    token_result verify(std::string_view token) const;

private:
    token_rules rules_;
    std::shared_ptr<signature_key const> key_;  // rules_.key, read once
    clock now_;
};

}  // namespace coropush::auth
