// The token verifier: valid tokens of each algorithm, and every way a token is refused (times and
// skew, signatures, "none" and algorithm confusion, missing and malformed claims, garbage, size).
#include "auth/base64url.hpp"
#include "auth/jwt_signature.hpp"
#include "auth/token_verifier.hpp"

#include "support/auth_test_tokens.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace coropush::auth {
namespace {
using namespace std::chrono_literals;
namespace tokens = test_tokens;

// The verifier's clock stands still here, so every time in a token is "now plus something".
constexpr long long frozen_now = 1'700'000'000;
std::string const hs_secret = "a shared secret of at least 32 bytes";  // NOLINT(cert-err58-cpp): a test fixture

std::chrono::system_clock::time_point frozen_clock()
{
    return std::chrono::system_clock::time_point{std::chrono::seconds{frozen_now}};
}

token_rules rules_for(token_algorithm algorithm, std::string key)
{
    token_rules rules;
    rules.algorithm = algorithm;
    rules.key = std::move(key);
    rules.clock_skew = 30s;
    return rules;
}

// "sub" and "exp" (ten minutes from now), then `more` claims: `more` is JSON members, or empty.
std::string claims_with(std::string const& more = "")
{
    return R"({"sub":"alice","exp":)" + std::to_string(frozen_now + 600) + (more.empty() ? "" : "," + more) + "}";
}

token_result verify_hs(std::string const& token, token_rules rules = rules_for(token_algorithm::hs256, hs_secret))
{
    return token_verifier(std::move(rules), frozen_clock).verify(token);
}

// The refusal's code, or a failure naming the unexpected acceptance.
std::optional<token_errc> refusal_code(token_result const& result)
{
    if (auto const* error = std::get_if<token_error>(&result))
        return error->code;
    return std::nullopt;
}

std::string hs_token(std::string const& claims)
{
    return tokens::sign("HS256", hs_secret, claims);
}

TEST(token_verifier, a_valid_hs256_token_gives_its_identity)
{
    auto const result =
        verify_hs(hs_token(claims_with(R"("subscribe":["news.*","chat:room-1"],"publish":["chat:*"])")));
    auto const* who = std::get_if<identity>(&result);
    ASSERT_NE(who, nullptr) << std::get<token_error>(result).message;
    EXPECT_EQ(who->subject, "alice");
    EXPECT_EQ(who->expires, frozen_clock() + 600s);
    EXPECT_EQ(who->subscribe, (std::vector<std::string>{"news.*", "chat:room-1"}));
    EXPECT_EQ(who->publish, (std::vector<std::string>{"chat:*"}));
}

TEST(token_verifier, no_pattern_claims_mean_no_patterns)
{
    auto const result = verify_hs(hs_token(claims_with()));
    ASSERT_TRUE(std::holds_alternative<identity>(result));
    EXPECT_TRUE(std::get<identity>(result).subscribe.empty());
    EXPECT_TRUE(std::get<identity>(result).publish.empty());
}

TEST(token_verifier, expiry_is_judged_with_the_clock_skew)
{
    auto const expiring = [](long long offset) {
        return hs_token(R"({"sub":"alice","exp":)" + std::to_string(frozen_now + offset) + "}");
    };
    EXPECT_EQ(refusal_code(verify_hs(expiring(-3600))), token_errc::expired);
    EXPECT_EQ(refusal_code(verify_hs(expiring(-30))), token_errc::expired);  // the skew reached exactly
    EXPECT_EQ(refusal_code(verify_hs(expiring(-29))), std::nullopt);         // expired, but within the skew
    EXPECT_EQ(refusal_code(verify_hs(expiring(1))), std::nullopt);

    auto strict = rules_for(token_algorithm::hs256, hs_secret);
    strict.clock_skew = 0s;
    EXPECT_EQ(refusal_code(verify_hs(expiring(0), strict)), token_errc::expired);
    EXPECT_EQ(refusal_code(verify_hs(expiring(-1), strict)), token_errc::expired);
}

TEST(token_verifier, a_token_from_the_future_is_not_valid_yet_beyond_the_skew)
{
    auto const in = [](char const* claim, long long offset) {
        return hs_token(claims_with("\"" + std::string(claim) + "\":" + std::to_string(frozen_now + offset)));
    };
    EXPECT_EQ(refusal_code(verify_hs(in("nbf", 3600))), token_errc::not_yet_valid);
    EXPECT_EQ(refusal_code(verify_hs(in("nbf", 31))), token_errc::not_yet_valid);
    EXPECT_EQ(refusal_code(verify_hs(in("nbf", 30))), std::nullopt);  // within the skew
    EXPECT_EQ(refusal_code(verify_hs(in("nbf", -100))), std::nullopt);
    EXPECT_EQ(refusal_code(verify_hs(in("iat", 31))), token_errc::not_yet_valid);
    EXPECT_EQ(refusal_code(verify_hs(in("iat", 30))), std::nullopt);
    EXPECT_EQ(refusal_code(verify_hs(in("iat", -100))), std::nullopt);
}

TEST(token_verifier, fractional_dates_are_accepted)
{
    auto const result = verify_hs(hs_token(R"({"sub":"alice","exp":)" + std::to_string(frozen_now + 10) + ".75}"));
    ASSERT_TRUE(std::holds_alternative<identity>(result));
    EXPECT_EQ(std::get<identity>(result).expires, frozen_clock() + 10s);
}

TEST(token_verifier, a_wrong_secret_or_a_tampered_token_is_a_bad_signature)
{
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("HS256", "another secret, also 32 bytes long", claims_with()))),
              token_errc::bad_signature);

    auto const genuine = hs_token(claims_with());
    auto const dot = genuine.rfind('.');
    auto tampered_signature = genuine;
    tampered_signature[dot + 1] = tampered_signature[dot + 1] == 'A' ? 'B' : 'A';
    EXPECT_EQ(refusal_code(verify_hs(tampered_signature)), token_errc::bad_signature);

    // Another payload (alice made herself an admin) under the genuine header and signature.
    auto const forged = hs_token(claims_with(R"("publish":["*"])"));
    auto const spliced = forged.substr(0, forged.rfind('.')) + genuine.substr(dot);
    ASSERT_NE(spliced, genuine);
    EXPECT_EQ(refusal_code(verify_hs(spliced)), token_errc::bad_signature);

    EXPECT_EQ(refusal_code(verify_hs(genuine.substr(0, dot + 1))), token_errc::bad_signature);  // no signature
}

TEST(token_verifier, an_unsigned_token_is_refused_whatever_the_spelling_of_none)
{
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("none", "", claims_with()))), token_errc::unsupported_alg);
    for (char const* header : {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":""})",
                               R"({"alg":"none","typ":"JWT"})"}) {
        EXPECT_EQ(refusal_code(verify_hs(tokens::craft(header, claims_with(), ""))), token_errc::unsupported_alg)
            << header;
        // With some signature bytes after it too: "none" must not be let through by a non-empty signature.
        EXPECT_EQ(refusal_code(verify_hs(tokens::craft(header, claims_with(), "signature"))),
                  token_errc::unsupported_alg)
            << header;
    }
}

TEST(token_verifier, only_the_configured_algorithm_is_accepted)
{
    auto const rs_rules = rules_for(token_algorithm::rs256, tokens::rsa_key().public_pem);
    EXPECT_EQ(refusal_code(verify_hs(hs_token(claims_with()), rs_rules)), token_errc::unsupported_alg);
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("HS384", hs_secret, claims_with()))), token_errc::unsupported_alg);
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("ES256", tokens::ec_key().private_pem, claims_with()), rs_rules)),
              token_errc::unsupported_alg);
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("RS256", tokens::rsa_key().private_pem, claims_with()))),
              token_errc::unsupported_alg);
}

TEST(token_verifier, an_hs256_token_keyed_with_the_public_key_is_refused)
{
    // The classic confusion: the attacker knows the RSA public key and uses it as an HMAC secret.
    auto const& public_pem = tokens::rsa_key().public_pem;
    auto const confused = tokens::sign("HS256", public_pem, claims_with(R"("publish":["*"])"));
    EXPECT_EQ(refusal_code(verify_hs(confused, rules_for(token_algorithm::rs256, public_pem))),
              token_errc::unsupported_alg);
    // And the signature check alone refuses it too, should the header check ever be bypassed.
    EXPECT_FALSE(signature_verifies(confused, token_algorithm::rs256, public_pem));
}

TEST(token_verifier, rs256_and_es256_tokens_verify_with_the_public_key)
{
    auto const rs = verify_hs(tokens::sign("RS256", tokens::rsa_key().private_pem, claims_with()),
                              rules_for(token_algorithm::rs256, tokens::rsa_key().public_pem));
    ASSERT_TRUE(std::holds_alternative<identity>(rs)) << std::get<token_error>(rs).message;
    EXPECT_EQ(std::get<identity>(rs).subject, "alice");

    auto const es = verify_hs(tokens::sign("ES256", tokens::ec_key().private_pem, claims_with()),
                              rules_for(token_algorithm::es256, tokens::ec_key().public_pem));
    ASSERT_TRUE(std::holds_alternative<identity>(es)) << std::get<token_error>(es).message;
    EXPECT_EQ(std::get<identity>(es).subject, "alice");
}

// Claims are JSON the verifier reads itself once the signature holds: a claim it does not use may
// hold anything JSON allows (libjwt's parser, which the check used to go through, refused integers
// past int64 and \u0000, and the token was called a bad signature).
TEST(token_verifier, any_json_in_claims_it_does_not_use_leaves_a_valid_token_valid)
{
    for (std::string const more :
         {R"("n":9223372036854775808)", R"("n":-9223372036854775809)", R"("s":"a\u0000b")", R"("n":1e400)"}) {
        auto const payload = claims_with(more);
        auto const hs = verify_hs(tokens::sign_exactly("HS256", hs_secret, payload));
        EXPECT_FALSE(refusal_code(hs)) << more;
        auto const rs = token_verifier(rules_for(token_algorithm::rs256, tokens::rsa_key().public_pem), frozen_clock)
                            .verify(tokens::sign_exactly("RS256", tokens::rsa_key().private_pem, payload));
        EXPECT_FALSE(refusal_code(rs)) << more;
        auto const es = token_verifier(rules_for(token_algorithm::es256, tokens::ec_key().public_pem), frozen_clock)
                            .verify(tokens::sign_exactly("ES256", tokens::ec_key().private_pem, payload));
        EXPECT_FALSE(refusal_code(es)) << more;
    }
}

// The public key is parsed once, when the verifier is made, and shared by every io thread: one
// verifier checks tokens on several threads at once, good and forged alike.
TEST(token_verifier, one_verifier_checks_public_key_tokens_on_several_threads_at_once)
{
    for (auto const algorithm : {token_algorithm::rs256, token_algorithm::es256}) {
        bool const rs = algorithm == token_algorithm::rs256;
        auto const& key = rs ? tokens::rsa_key() : tokens::ec_key();
        auto const& other = rs ? tokens::other_rsa_key() : tokens::other_ec_key();
        std::string const alg = rs ? "RS256" : "ES256";
        token_verifier const verifier(rules_for(algorithm, key.public_pem), frozen_clock);
        auto const good = tokens::sign(alg, key.private_pem, claims_with());
        auto const forged = tokens::sign(alg, other.private_pem, claims_with());
        std::atomic<int> accepted{0};
        std::atomic<int> refused{0};
        {
            std::vector<std::jthread> threads;
            threads.reserve(4);
            for (int t = 0; t < 4; ++t)
                threads.emplace_back([&] {
                    for (int i = 0; i < 25; ++i) {
                        if (!refusal_code(verifier.verify(good)))
                            ++accepted;
                        if (refusal_code(verifier.verify(forged)) == token_errc::bad_signature)
                            ++refused;
                    }
                });
        }
        EXPECT_EQ(accepted.load(), 100) << alg;
        EXPECT_EQ(refused.load(), 100) << alg;
    }
}

TEST(token_verifier, rs256_signed_by_another_key_is_a_bad_signature)
{
    EXPECT_EQ(refusal_code(verify_hs(tokens::sign("RS256", tokens::other_rsa_key().private_pem, claims_with()),
                                     rules_for(token_algorithm::rs256, tokens::rsa_key().public_pem))),
              token_errc::bad_signature);
}

TEST(token_verifier, an_empty_key_verifies_nothing)
{
    // libjwt skips the signature check when it has no key; the verifier must never let it.
    EXPECT_EQ(refusal_code(verify_hs(hs_token(claims_with()), rules_for(token_algorithm::hs256, ""))),
              token_errc::bad_signature);
    EXPECT_FALSE(signature_verifies(hs_token(claims_with()), token_algorithm::hs256, ""));
}

TEST(token_verifier, sub_and_exp_are_required)
{
    auto const exp = std::to_string(frozen_now + 600);
    struct row {
        std::string claims;
        token_errc expected;
    };
    for (auto const& [claims, expected] : {
             row{R"({"exp":)" + exp + "}", token_errc::missing_claim},
             row{R"({"sub":"alice"})", token_errc::missing_claim},
             row{R"({"sub":"","exp":)" + exp + "}", token_errc::invalid_claim},
             row{R"({"sub":42,"exp":)" + exp + "}", token_errc::invalid_claim},
             row{R"({"sub":["alice"],"exp":)" + exp + "}", token_errc::invalid_claim},
             row{R"({"sub":"alice","exp":")" + exp + "\"}", token_errc::invalid_claim},
             row{R"({"sub":"alice","exp":null})", token_errc::invalid_claim},
             row{R"({"sub":"alice","exp":-5})", token_errc::invalid_claim},
             row{R"({"sub":"alice","exp":1e300})", token_errc::invalid_claim},
             row{R"({"sub":"alice","exp":9999999999})", token_errc::invalid_claim},  // 2286: past system_clock
             row{R"({"sub":"alice","exp":)" + exp + R"(,"nbf":"yesterday"})", token_errc::invalid_claim},
         })
        EXPECT_EQ(refusal_code(verify_hs(hs_token(claims))), expected) << claims;
}

TEST(token_verifier, patterns_must_be_arrays_of_topic_patterns)
{
    for (char const* bad : {R"("subscribe":"news.*")", R"("subscribe":[1])", R"("publish":["bad topic"])",
                            R"("publish":[""])", R"("subscribe":{"news":true})"})
        EXPECT_EQ(refusal_code(verify_hs(hs_token(claims_with(bad)))), token_errc::invalid_claim) << bad;
}

TEST(token_verifier, issuer_and_audience_are_checked_when_configured)
{
    auto rules = rules_for(token_algorithm::hs256, hs_secret);
    rules.issuer = "https://login.example";
    rules.audience = "coropush";
    auto const check = [&](std::string const& more) {
        return refusal_code(verify_hs(hs_token(claims_with(more)), rules));
    };
    EXPECT_EQ(check(R"("iss":"https://login.example","aud":"coropush")"), std::nullopt);
    EXPECT_EQ(check(R"("iss":"https://login.example","aud":["other","coropush"])"), std::nullopt);
    EXPECT_EQ(check(R"("aud":"coropush")"), token_errc::missing_claim);
    EXPECT_EQ(check(R"("iss":"https://login.example")"), token_errc::missing_claim);
    EXPECT_EQ(check(R"("iss":"https://evil.example","aud":"coropush")"), token_errc::wrong_issuer);
    EXPECT_EQ(check(R"("iss":"https://login.example","aud":["other"])"), token_errc::wrong_audience);
    EXPECT_EQ(check(R"("iss":"https://login.example","aud":7)"), token_errc::wrong_audience);

    // Not configured: not checked.
    EXPECT_EQ(refusal_code(verify_hs(hs_token(claims_with(R"("iss":"anyone","aud":"anything")")))), std::nullopt);
}

TEST(token_verifier, garbage_is_malformed)
{
    auto const genuine = hs_token(claims_with());
    auto const payload_and_signature = genuine.substr(genuine.find('.'));
    for (std::string const& garbage : {
             std::string(""),
             std::string("not a token"),
             std::string("a.b"),
             genuine + ".extra",
             std::string("..."),
             "!!!!" + payload_and_signature,                       // not base64url
             "bm90IGpzb24" + payload_and_signature,                // base64url of "not json"
             tokens::craft(R"(["HS256"])", claims_with(), "sig"),  // JSON, but not an object
             tokens::craft(R"({"typ":"JWT"})", claims_with(), "sig"),
             tokens::craft(R"({"alg":256})", claims_with(), "sig"),
             tokens::craft(R"({"alg":"HS256"})", "not json", "sig"),
             tokens::craft(R"({"alg":"HS256"})", "[1,2]", "sig"),
         })
        EXPECT_EQ(refusal_code(verify_hs(garbage)), token_errc::malformed) << garbage;
}

TEST(token_verifier, critical_header_extensions_are_refused)
{
    EXPECT_EQ(refusal_code(verify_hs(tokens::craft(R"({"alg":"HS256","crit":["b64"]})", claims_with(), "sig"))),
              token_errc::unsupported_alg);
}

TEST(token_verifier, a_token_past_the_length_limit_is_refused_unread)
{
    auto rules = rules_for(token_algorithm::hs256, hs_secret);
    rules.max_token_length = 8192;
    auto const padded = [](std::size_t size) {
        return hs_token(claims_with(R"("padding":")" + std::string(size, 'x') + "\""));
    };
    auto const fits = padded(5000);
    ASSERT_LE(fits.size(), rules.max_token_length);
    EXPECT_EQ(refusal_code(verify_hs(fits, rules)), std::nullopt);
    auto const too_long = padded(7000);
    ASSERT_GT(too_long.size(), rules.max_token_length);
    EXPECT_EQ(refusal_code(verify_hs(too_long, rules)), token_errc::malformed);
    EXPECT_EQ(refusal_code(verify_hs(std::string(1 << 20, 'a'), rules)), token_errc::malformed);
}

TEST(token_verifier, every_refusal_has_a_stable_name_and_a_message)
{
    EXPECT_EQ(to_string(token_errc::bad_signature), "bad_signature");
    EXPECT_EQ(to_string(token_errc::unsupported_alg), "unsupported_alg");
    EXPECT_EQ(to_string(token_errc::not_yet_valid), "not_yet_valid");
    auto const result = verify_hs("garbage");
    ASSERT_TRUE(std::holds_alternative<token_error>(result));
    EXPECT_FALSE(std::get<token_error>(result).message.empty());
}

TEST(token_verifier, algorithm_names_and_rules_problems)
{
    EXPECT_EQ(parse_token_algorithm("RS256"), token_algorithm::rs256);
    EXPECT_EQ(parse_token_algorithm("none"), std::nullopt);
    EXPECT_EQ(parse_token_algorithm("hs256"), std::nullopt);  // the JOSE names are case-sensitive
    EXPECT_EQ(to_string(token_algorithm::es256), "ES256");

    EXPECT_EQ(rules_problem(rules_for(token_algorithm::hs256, hs_secret)), std::nullopt);
    EXPECT_NE(rules_problem(rules_for(token_algorithm::hs256, "short")), std::nullopt);
    EXPECT_EQ(rules_problem(rules_for(token_algorithm::rs256, tokens::rsa_key().public_pem)), std::nullopt);
    EXPECT_NE(rules_problem(rules_for(token_algorithm::rs256, tokens::rsa_key().private_pem)), std::nullopt);
    EXPECT_NE(rules_problem(rules_for(token_algorithm::es256, hs_secret)), std::nullopt);
    // A public key of the other kind would verify nothing: said at start, not at every token.
    EXPECT_EQ(rules_problem(rules_for(token_algorithm::es256, tokens::ec_key().public_pem)), std::nullopt);
    EXPECT_NE(rules_problem(rules_for(token_algorithm::es256, tokens::rsa_key().public_pem)), std::nullopt);
    EXPECT_NE(rules_problem(rules_for(token_algorithm::rs256, tokens::ec_key().public_pem)), std::nullopt);
    auto const& whole = tokens::rsa_key().public_pem;
    auto const cut = whole.substr(0, whole.find('\n', whole.size() / 2) + 1) + "-----END PUBLIC KEY-----\n";
    EXPECT_NE(rules_problem(rules_for(token_algorithm::rs256, cut)), std::nullopt) << "half a key";
}

TEST(base64url, decodes_unpadded_text_and_refuses_anything_else)
{
    EXPECT_EQ(decode_base64url(""), "");
    EXPECT_EQ(decode_base64url("Zg"), "f");
    EXPECT_EQ(decode_base64url("Zm8"), "fo");
    EXPECT_EQ(decode_base64url("Zm9v"), "foo");
    EXPECT_EQ(decode_base64url("-_8"), "\xfb\xff");         // the two characters that differ from base64
    EXPECT_EQ(decode_base64url("Zm9vYg=="), std::nullopt);  // JWTs are never padded
    EXPECT_EQ(decode_base64url("Zm9vY"), std::nullopt);     // a lone last character
    EXPECT_EQ(decode_base64url("Zm+v"), std::nullopt);      // base64, not base64url
    EXPECT_EQ(decode_base64url("Zm 9v"), std::nullopt);
}

}  // namespace
}  // namespace coropush::auth
