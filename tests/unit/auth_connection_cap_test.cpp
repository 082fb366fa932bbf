// The per-address connection cap: the limit, closing, addresses counted apart, no limit.
#include "auth/connection_cap.hpp"

#include <gtest/gtest.h>

namespace coropush::auth {
namespace {

TEST(connection_cap, refuses_past_the_limit_until_one_closes)
{
    connection_cap cap(2);
    EXPECT_TRUE(cap.try_open("192.0.2.1"));
    EXPECT_TRUE(cap.try_open("192.0.2.1"));
    EXPECT_FALSE(cap.try_open("192.0.2.1"));
    EXPECT_EQ(cap.open_from("192.0.2.1"), 2u);  // the refusal counted nothing
    cap.close("192.0.2.1");
    EXPECT_TRUE(cap.try_open("192.0.2.1"));
}

TEST(connection_cap, counts_each_address_apart)
{
    connection_cap cap(1);
    EXPECT_TRUE(cap.try_open("192.0.2.1"));
    EXPECT_TRUE(cap.try_open("2001:db8::1"));
    EXPECT_FALSE(cap.try_open("2001:db8::1"));
    EXPECT_EQ(cap.addresses(), 2u);
}

TEST(connection_cap, forgets_an_address_at_zero_and_ignores_an_unmatched_close)
{
    connection_cap cap(3);
    EXPECT_TRUE(cap.try_open("192.0.2.1"));
    cap.close("192.0.2.1");
    EXPECT_EQ(cap.addresses(), 0u);
    cap.close("192.0.2.1");
    cap.close("198.51.100.7");
    EXPECT_EQ(cap.open_from("192.0.2.1"), 0u);
    EXPECT_EQ(cap.addresses(), 0u);
}

TEST(connection_cap, a_zero_limit_counts_without_refusing)
{
    connection_cap cap(0);
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(cap.try_open("192.0.2.1"));
    EXPECT_EQ(cap.open_from("192.0.2.1"), 1000u);
}

}  // namespace
}  // namespace coropush::auth
