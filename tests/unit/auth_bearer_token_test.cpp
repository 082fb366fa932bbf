// Reading "Authorization: Bearer <token>": the scheme in any case, nothing for anything else.
#include "auth/bearer_token.hpp"

#include <gtest/gtest.h>

namespace coropush::auth {
namespace {

TEST(bearer_token, reads_the_token_with_the_scheme_in_any_case)
{
    EXPECT_EQ(bearer_token("Bearer abc"), "abc");
    EXPECT_EQ(bearer_token("bearer abc"), "abc");
    EXPECT_EQ(bearer_token("BEARER abc"), "abc");
    EXPECT_EQ(bearer_token("Bearer   abc"), "abc") << "extra spaces before the token";
}

TEST(bearer_token, refuses_other_schemes_and_missing_tokens)
{
    for (std::string_view const header :
         {"", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Basic abc", "Beare abc", "Token abc", " Bearer abc"})
        EXPECT_FALSE(bearer_token(header).has_value()) << '"' << header << '"';
}

TEST(request_bearer_token, takes_the_only_authorization_header_and_refuses_two)
{
    auto const one = request_bearer_token(1, "Bearer abc");
    EXPECT_EQ(one.token, "abc");
    EXPECT_FALSE(one.repeated);
    auto const none = request_bearer_token(0, "");
    EXPECT_FALSE(none.token.has_value());
    EXPECT_FALSE(none.repeated) << "missing, not repeated: 401, not 400";
    auto const two = request_bearer_token(2, "Bearer abc");
    EXPECT_FALSE(two.token.has_value()) << "not even the first one";
    EXPECT_TRUE(two.repeated);
}

}  // namespace
}  // namespace coropush::auth
