// The token bucket: the burst, the refill, long gaps, fractional rates, time going back.
#include "auth/token_bucket.hpp"

#include <gtest/gtest.h>

namespace coropush::auth {
namespace {
using namespace std::chrono_literals;
using time_point = token_bucket::time_point;

// A fixed origin: the bucket never reads a clock, so any time point will do.
time_point const start{1h};  // NOLINT(cert-err58-cpp): a test fixture

int takes(token_bucket& bucket, time_point now, int attempts)
{
    int taken = 0;
    for (int i = 0; i < attempts; ++i)
        taken += bucket.try_take(now) ? 1 : 0;
    return taken;
}

TEST(token_bucket, a_full_bucket_allows_the_burst_at_once_then_refuses)
{
    token_bucket bucket(1.0, 5.0, start);
    EXPECT_EQ(takes(bucket, start, 10), 5);
    EXPECT_FALSE(bucket.try_take(start));
}

TEST(token_bucket, refills_at_the_rate)
{
    token_bucket bucket(10.0, 2.0, start);
    EXPECT_EQ(takes(bucket, start, 2), 2);
    EXPECT_FALSE(bucket.try_take(start + 50ms));  // half a token
    EXPECT_TRUE(bucket.try_take(start + 100ms));
    EXPECT_FALSE(bucket.try_take(start + 100ms));
    EXPECT_EQ(takes(bucket, start + 300ms, 5), 2);  // two more tokens, capped at the burst
}

TEST(token_bucket, a_steady_sender_at_the_rate_is_never_refused)
{
    token_bucket bucket(10.0, 1.0, start);
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(bucket.try_take(start + i * 100ms)) << "message " << i;
}

TEST(token_bucket, a_long_gap_refills_to_the_burst_and_no_further)
{
    token_bucket bucket(1000.0, 3.0, start);
    EXPECT_EQ(takes(bucket, start, 3), 3);
    auto const much_later = start + 24h * 365 * 100;
    EXPECT_DOUBLE_EQ(bucket.available(much_later), 3.0);
    EXPECT_EQ(takes(bucket, much_later, 10), 3);
}

TEST(token_bucket, fractional_rates_allow_one_event_per_interval)
{
    token_bucket bucket(0.5, 1.0, start);  // one message every two seconds
    EXPECT_TRUE(bucket.try_take(start));
    EXPECT_FALSE(bucket.try_take(start + 1s));
    EXPECT_FALSE(bucket.try_take(start + 1999ms));
    EXPECT_TRUE(bucket.try_take(start + 2s));
    EXPECT_NEAR(bucket.available(start + 3s), 0.5, 1e-9);
}

TEST(token_bucket, a_zero_rate_allows_only_the_burst)
{
    token_bucket bucket(0.0, 2.0, start);
    EXPECT_EQ(takes(bucket, start + 24h, 5), 2);
    EXPECT_FALSE(bucket.try_take(start + 48h));
}

TEST(token_bucket, time_going_back_adds_nothing)
{
    token_bucket bucket(1.0, 1.0, start + 10s);
    EXPECT_TRUE(bucket.try_take(start + 10s));
    EXPECT_FALSE(bucket.try_take(start));        // earlier than the last refill: no tokens
    EXPECT_FALSE(bucket.try_take(start + 10s));  // and the mark did not move back
    EXPECT_TRUE(bucket.try_take(start + 11s));
}

}  // namespace
}  // namespace coropush::auth
