// Token checks, in the order that lets each refusal name its cause: shape, algorithm, signature,
// and only then the claims, which are trusted from that point on.
#include "auth/token_verifier.hpp"

#include "auth/base64url.hpp"
#include "auth/jwt_signature.hpp"
#include "auth/topic_pattern.hpp"

#include <boost/describe/enum_to_string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace coropush::auth {
namespace {
using boost::json::object;
using sys_time = std::chrono::system_clock::time_point;

// 2100-01-01. Later dates are mistakes, and from 2262 on they would overflow system_clock's
// nanoseconds (libstdc++).
constexpr double latest_numeric_date = 4102444800.0;

token_error refusal(token_errc code, std::string message)
{
    return {code, std::move(message)};
}

struct token_parts {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
};

// header.payload.signature: exactly two dots.
std::optional<token_parts> split_token(std::string_view token)
{
    auto const first = token.find('.');
    auto const second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;
    return token_parts{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
}

// A base64url-encoded JSON object (the header or the payload).
std::optional<object> decode_json_object(std::string_view encoded)
{
    auto const text = decode_base64url(encoded);
    if (!text)
        return std::nullopt;
    boost::system::error_code ec;
    auto value = boost::json::parse(*text, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    return std::move(value.as_object());
}

std::optional<token_error> check_header(object const& header, token_algorithm expected)
{
    auto const* alg = header.if_contains("alg");
    if (alg == nullptr || !alg->is_string())
        return refusal(token_errc::malformed, "the token header names no algorithm");
    // Compared with the configured name, never looked up: the token does not choose how it is checked.
    if (alg->get_string() != to_string(expected))
        return refusal(token_errc::unsupported_alg, "the token is not signed with " + std::string(to_string(expected)) +
                                                        ", the algorithm configured");
    // Critical header extensions must be understood or the token refused (RFC 7515 §4.1.11): we know none.
    if (header.contains("crit"))
        return refusal(token_errc::unsupported_alg, "the token header has critical extensions");
    return std::nullopt;
}

// A NumericDate claim, seconds since 1970 (RFC 7519 §2), possibly fractional: nullopt in `date`
// when the claim is absent, an error when it is not a number in range.
std::optional<token_error> read_date(object const& claims, std::string_view name, std::optional<sys_time>& date)
{
    auto const* value = claims.if_contains(name);
    if (value == nullptr)
        return std::nullopt;
    if (!value->is_number())
        return refusal(token_errc::invalid_claim, "\"" + std::string(name) + "\" is not a number of seconds");
    boost::system::error_code ec;
    double const seconds = value->to_number<double>(ec);
    if (ec || !std::isfinite(seconds) || seconds < 0 || seconds > latest_numeric_date)
        return refusal(token_errc::invalid_claim, "\"" + std::string(name) + "\" is out of range");
    date = sys_time{std::chrono::seconds{static_cast<std::int64_t>(std::floor(seconds))}};
    return std::nullopt;
}

std::optional<token_error> read_subject(object const& claims, std::string& subject)
{
    auto const* value = claims.if_contains("sub");
    if (value == nullptr)
        return refusal(token_errc::missing_claim, "the token has no \"sub\"");
    if (!value->is_string() || value->get_string().empty())
        return refusal(token_errc::invalid_claim, "\"sub\" is not a non-empty string");
    subject = value->get_string();
    return std::nullopt;
}

// "subscribe" or "publish": absent means no patterns.
std::optional<token_error> read_patterns(object const& claims, std::string_view name, std::size_t max_length,
                                         std::vector<std::string>& patterns)
{
    auto const* value = claims.if_contains(name);
    if (value == nullptr)
        return std::nullopt;
    auto const wrong =
        refusal(token_errc::invalid_claim, "\"" + std::string(name) + "\" is not an array of topic patterns");
    if (!value->is_array())
        return wrong;
    for (auto const& element : value->get_array()) {
        if (!element.is_string() || !valid_topic_pattern(element.get_string(), max_length))
            return wrong;
        patterns.emplace_back(element.get_string());
    }
    return std::nullopt;
}

std::optional<token_error> check_issuer(object const& claims, std::string const& issuer)
{
    if (issuer.empty())
        return std::nullopt;
    auto const* value = claims.if_contains("iss");
    if (value == nullptr)
        return refusal(token_errc::missing_claim, "the token has no \"iss\"");
    if (!value->is_string() || value->get_string() != issuer)
        return refusal(token_errc::wrong_issuer, "the token is not from the configured issuer");
    return std::nullopt;
}

// "aud" is one string or an array of them (RFC 7519 §4.1.3); ours must be among them.
std::optional<token_error> check_audience(object const& claims, std::string const& audience)
{
    if (audience.empty())
        return std::nullopt;
    auto const* value = claims.if_contains("aud");
    if (value == nullptr)
        return refusal(token_errc::missing_claim, "the token has no \"aud\"");
    auto const names_us = [&](boost::json::value const& name) {
        return name.is_string() && name.get_string() == audience;
    };
    bool const ours = value->is_array() ? std::any_of(value->get_array().begin(), value->get_array().end(), names_us)
                                        : names_us(*value);
    if (!ours)
        return refusal(token_errc::wrong_audience, "the token is not meant for this server");
    return std::nullopt;
}

// The skew is allowed both ways: a client's token is judged by a clock that may differ from its issuer's.
std::optional<token_error> check_times(sys_time now, std::chrono::seconds skew, sys_time expires,
                                       std::optional<sys_time> not_before, std::optional<sys_time> issued_at)
{
    if (now >= expires + skew)
        return refusal(token_errc::expired, "the token has expired");
    if (not_before && now + skew < *not_before)
        return refusal(token_errc::not_yet_valid, "the token is not valid yet");
    if (issued_at && now + skew < *issued_at)
        return refusal(token_errc::not_yet_valid, "the token was issued in the future");
    return std::nullopt;
}

// Reads the claims of a token whose signature has been verified.
token_result read_claims(object const& claims, token_rules const& rules, sys_time now)
{
    identity who;
    std::optional<sys_time> expires;
    std::optional<sys_time> not_before;
    std::optional<sys_time> issued_at;
    if (auto error = read_subject(claims, who.subject))
        return *error;
    if (auto error = read_date(claims, "exp", expires))
        return *error;
    if (!expires)
        return refusal(token_errc::missing_claim, "the token has no \"exp\"");
    who.expires = *expires;
    if (auto error = read_date(claims, "nbf", not_before))
        return *error;
    if (auto error = read_date(claims, "iat", issued_at))
        return *error;
    if (auto error = read_patterns(claims, "subscribe", rules.max_topic_length, who.subscribe))
        return *error;
    if (auto error = read_patterns(claims, "publish", rules.max_topic_length, who.publish))
        return *error;
    if (auto error = check_issuer(claims, rules.issuer))
        return *error;
    if (auto error = check_audience(claims, rules.audience))
        return *error;
    if (auto error = check_times(now, rules.clock_skew, who.expires, not_before, issued_at))
        return *error;
    return who;
}

}  // namespace

std::string_view to_string(token_algorithm algorithm) noexcept
{
    switch (algorithm) {
    case token_algorithm::hs256:
        return "HS256";
    case token_algorithm::rs256:
        return "RS256";
    case token_algorithm::es256:
        return "ES256";
    }
    return "HS256";
}

std::optional<token_algorithm> parse_token_algorithm(std::string_view text) noexcept
{
    for (auto algorithm : {token_algorithm::hs256, token_algorithm::rs256, token_algorithm::es256})
        if (text == to_string(algorithm))
            return algorithm;
    return std::nullopt;
}

std::string_view to_string(token_errc code) noexcept
{
    return boost::describe::enum_to_string(code, "malformed");
}

std::optional<std::string> rules_problem(token_rules const& rules)
{
    if (rules.algorithm == token_algorithm::hs256) {
        if (rules.key.size() < 32)
            return "an HS256 secret needs at least 32 bytes";
        return std::nullopt;
    }
    if (rules.key.find("PRIVATE KEY") != std::string::npos)
        return "the server needs the public key, not the private one";
    if (rules.key.find("-----BEGIN PUBLIC KEY-----") == std::string::npos)
        return std::string(to_string(rules.algorithm)) + " needs a PEM public key (-----BEGIN PUBLIC KEY-----)";
    if (!signature_key(rules.algorithm, rules.key).usable())
        return rules.algorithm == token_algorithm::rs256 ? "RS256 needs an RSA public key, and this one is not"
                                                         : "ES256 needs an EC public key on P-256, and this one is not";
    return std::nullopt;
}

token_verifier::token_verifier(token_rules rules, clock now)
    : rules_(std::move(rules)),
      key_(std::make_shared<signature_key const>(rules_.algorithm, rules_.key)),
      now_(std::move(now))
{
}

token_result token_verifier::verify(std::string_view token) const
{
    if (token.size() > rules_.max_token_length)
        return refusal(token_errc::malformed,
                       "the token is longer than " + std::to_string(rules_.max_token_length) + " bytes");
    auto const parts = split_token(token);
    if (!parts)
        return refusal(token_errc::malformed, "a token has three parts separated by dots");
    auto const header = decode_json_object(parts->header);
    if (!header)
        return refusal(token_errc::malformed, "the token header is not base64url-encoded JSON");
    if (auto error = check_header(*header, rules_.algorithm))
        return *error;
    // Parsed now only to tell a malformed token from a forged one; nothing in it is used until
    // the signature has been verified.
    auto const claims = decode_json_object(parts->payload);
    if (!claims)
        return refusal(token_errc::malformed, "the token payload is not base64url-encoded JSON");
    if (parts->signature.empty() || !decode_base64url(parts->signature) || !key_->verifies(token))
        return refusal(token_errc::bad_signature, "the token signature does not verify");
    return read_claims(*claims, rules_, now_());
}

}  // namespace coropush::auth
