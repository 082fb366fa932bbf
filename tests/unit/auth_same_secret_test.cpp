// Constant-time secret comparison: equal, different content, different length, empty.
#include "auth/same_secret.hpp"

#include <gtest/gtest.h>

#include <string>

namespace coropush::auth {
namespace {

TEST(same_secret, only_identical_bytes_match)
{
    EXPECT_TRUE(same_secret("k3y-0f-32-bytes", "k3y-0f-32-bytes"));
    EXPECT_FALSE(same_secret("k3y-0f-32-bytez", "k3y-0f-32-bytes"));
    EXPECT_FALSE(same_secret("X3y-0f-32-bytes", "k3y-0f-32-bytes"));
    EXPECT_FALSE(same_secret("k3y-0f-32", "k3y-0f-32-bytes"));
    EXPECT_FALSE(same_secret("k3y-0f-32-bytes-and-more", "k3y-0f-32-bytes"));
    EXPECT_FALSE(same_secret("", "k3y"));
    EXPECT_TRUE(same_secret("", ""));
}

TEST(same_secret, embedded_nul_bytes_are_compared_too)
{
    std::string const expected("ab\0cd", 5);
    EXPECT_TRUE(same_secret(std::string("ab\0cd", 5), expected));
    EXPECT_FALSE(same_secret(std::string("ab\0ce", 5), expected));
    EXPECT_FALSE(same_secret("ab", expected));  // a C string stops at the NUL; the comparison does not
}

}  // namespace
}  // namespace coropush::auth
