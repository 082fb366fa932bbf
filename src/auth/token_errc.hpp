// Why a token was refused: stable codes that logs, metrics and error messages use. Apart from
// the verifier so that the metrics can count refusals by code without including it.
#pragma once

#include <boost/describe/enum.hpp>

#include <string_view>

namespace coropush::auth {

// Why a token was refused. The names are stable: logs, metrics and close reasons use them.
enum class token_errc {
    malformed,        // not three base64url parts of JSON objects, or longer than the limit
    unsupported_alg,  // the header names another algorithm than the configured one ("none" included)
    bad_signature,    // the signature does not verify with the configured key
    missing_claim,    // "sub" or "exp" (or "iss"/"aud" when configured) is absent
    invalid_claim,    // a claim of the wrong type or out of range, or a pattern that is not one
    wrong_issuer,     // "iss" is not the configured issuer
    wrong_audience,   // "aud" does not name the configured audience
    expired,          // "exp" is past, beyond the allowed skew
    not_yet_valid,    // "nbf" or "iat" is in the future, beyond the allowed skew
};
BOOST_DESCRIBE_ENUM(token_errc, malformed, unsupported_alg, bad_signature, missing_claim, invalid_claim, wrong_issuer,
                    wrong_audience, expired, not_yet_valid)
std::string_view to_string(token_errc code) noexcept;

}  // namespace coropush::auth
