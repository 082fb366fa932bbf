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

}  // namespace
}  // namespace coropush::auth
