// The heartbeat and the bound on unanswered bytes of a Redis connection, without a socket: the
// time is passed in, so each deadline is checked to the millisecond.
#include "pubsub/redis_liveness.hpp"

#include <gtest/gtest.h>

namespace coropush {
namespace {
using namespace std::chrono_literals;
using clock = pubsub::redis_liveness::clock;

pubsub::redis_liveness::limits small_limits()
{
    return {100ms, 500ms, 800};  // a heartbeat also after each 100 bytes sent
}

TEST(redis_liveness, a_heartbeat_reply_answers_every_byte_sent_before_it_and_none_after)
{
    pubsub::redis_liveness owed(small_limits());
    auto const t0 = clock::time_point{} + 1h;
    owed.sent(40);
    owed.heartbeat_sent(14, t0);
    owed.sent(30);
    EXPECT_EQ(owed.unanswered_bytes(), 84u);
    owed.heartbeat_answered();
    EXPECT_EQ(owed.unanswered_bytes(), 30u) << "what was sent after the heartbeat is still owed";
    EXPECT_EQ(owed.heartbeats_in_flight(), 0u);
    owed.heartbeat_answered();  // a reply with no heartbeat in flight changes nothing
    EXPECT_EQ(owed.unanswered_bytes(), 30u);
}

TEST(redis_liveness, commands_fit_up_to_the_bound_and_one_larger_command_fits_when_nothing_is_owed)
{
    pubsub::redis_liveness owed(small_limits());
    EXPECT_TRUE(owed.fits(5000)) << "nothing owed: even a command larger than the bound goes out";
    owed.sent(700);
    EXPECT_TRUE(owed.fits(100));
    EXPECT_FALSE(owed.fits(101));
    owed.reset();
    EXPECT_EQ(owed.unanswered_bytes(), 0u);
    EXPECT_TRUE(owed.fits(800));
}

TEST(redis_liveness, a_heartbeat_is_due_after_the_interval_or_after_an_eighth_of_the_bound)
{
    pubsub::redis_liveness owed(small_limits());
    auto const t0 = clock::time_point{} + 1h;
    owed.heartbeat_sent(14, t0);
    EXPECT_FALSE(owed.heartbeat_due(t0 + 99ms));
    EXPECT_TRUE(owed.heartbeat_due(t0 + 100ms));
    owed.sent(99);
    EXPECT_FALSE(owed.heartbeat_due(t0 + 1ms));
    owed.sent(1);
    EXPECT_TRUE(owed.heartbeat_due(t0 + 1ms)) << "100 bytes since the last heartbeat";
}

TEST(redis_liveness, the_oldest_unanswered_heartbeat_sets_the_deadline)
{
    pubsub::redis_liveness owed(small_limits());
    auto const t0 = clock::time_point{} + 1h;
    EXPECT_FALSE(owed.overdue(t0 + 1h)) << "no heartbeat in flight, nothing overdue";
    owed.heartbeat_sent(14, t0);
    owed.heartbeat_sent(14, t0 + 100ms);
    EXPECT_EQ(owed.next_check(), t0 + 200ms) << "the next heartbeat comes before the first deadline";
    EXPECT_FALSE(owed.overdue(t0 + 499ms));
    EXPECT_TRUE(owed.overdue(t0 + 500ms));
    owed.heartbeat_answered();
    EXPECT_FALSE(owed.overdue(t0 + 500ms)) << "the second heartbeat's deadline is later";
    EXPECT_TRUE(owed.overdue(t0 + 600ms));

    pubsub::redis_liveness slow({1s, 300ms, 800});
    slow.heartbeat_sent(14, t0);
    EXPECT_EQ(slow.next_check(), t0 + 300ms) << "the deadline comes before the next heartbeat";
}

}  // namespace
}  // namespace coropush
