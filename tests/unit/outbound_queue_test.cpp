// The bounded outbound queue: both limits, both policies, coalescing, and the message in flight.
#include "net/outbound_queue.hpp"

#include <gtest/gtest.h>

namespace coropush {
namespace {
using result = outbound_queue::push_result;

outbound_message queue_entry(std::string text, std::uint64_t key = 0)
{
    return {make_payload(std::move(text)), false, key};
}

TEST(outbound_queue, refuses_past_the_message_limit_with_the_close_policy)
{
    outbound_queue q({2, 1000, overflow_policy::close});
    EXPECT_EQ(q.push(queue_entry("a")), result::queued);
    EXPECT_EQ(q.push(queue_entry("b")), result::queued);
    EXPECT_EQ(q.push(queue_entry("c")), result::overflow);
    EXPECT_EQ(q.messages(), 2u);
    EXPECT_EQ(q.bytes(), 2u);
}

TEST(outbound_queue, refuses_past_the_byte_limit)
{
    outbound_queue q({100, 10, overflow_policy::close});
    EXPECT_EQ(q.push(queue_entry("12345678")), result::queued);
    EXPECT_EQ(q.push(queue_entry("123")), result::overflow);
    EXPECT_EQ(q.push(queue_entry("12")), result::queued);
    EXPECT_EQ(q.bytes(), 10u);
}

TEST(outbound_queue, a_message_larger_than_the_byte_limit_fits_when_nothing_waits)
{
    outbound_queue q({100, 10, overflow_policy::close});
    EXPECT_EQ(q.push(queue_entry(std::string(64, 'x'))), result::queued) << "an empty queue takes any one message";
    EXPECT_EQ(q.push(queue_entry("1")), result::overflow) << "but nothing may wait behind it past the limit";
}

TEST(outbound_queue, the_byte_limit_counts_what_waits_behind_the_message_being_written)
{
    outbound_queue q({100, 10, overflow_policy::close});
    EXPECT_EQ(q.push(queue_entry(std::string(64, 'a'))), result::queued);
    auto const writing = q.front();  // the writer takes it: it no longer waits
    EXPECT_EQ(q.push(queue_entry(std::string(64, 'b'))), result::queued) << "nothing waits: it fits";
    EXPECT_EQ(q.push(queue_entry("c")), result::overflow) << "64 bytes wait already";
    q.pop();
    EXPECT_EQ(*q.front().payload, std::string(64, 'b'));
    EXPECT_EQ(q.bytes(), 64u);
}

TEST(outbound_queue, drop_policy_drops_the_new_message_and_keeps_the_rest)
{
    outbound_queue q({1, 1000, overflow_policy::drop_newest});
    EXPECT_EQ(q.push(queue_entry("kept")), result::queued);
    EXPECT_EQ(q.push(queue_entry("dropped")), result::dropped);
    EXPECT_EQ(*q.front().payload, "kept");
}

TEST(outbound_queue, while_there_is_room_messages_with_a_key_queue_like_any_other)
{
    outbound_queue q({10, 1000, overflow_policy::close});
    EXPECT_EQ(q.push(queue_entry("progress 10%", 7)), result::queued);
    EXPECT_EQ(q.push(queue_entry("progress 20%", 7)), result::queued) << "a reader that keeps up sees every update";
    EXPECT_EQ(q.messages(), 2u);
}

TEST(outbound_queue, when_full_a_message_replaces_the_newest_waiting_one_with_its_key)
{
    outbound_queue q({4, 1000, overflow_policy::close});
    q.push(queue_entry("p1", 7));
    q.push(queue_entry("other"));
    q.push(queue_entry("p2", 7));
    q.push(queue_entry("job 8", 8));
    EXPECT_EQ(q.push(queue_entry("p3", 7)), result::coalesced) << "full, but coalescing never closes";
    EXPECT_EQ(q.push(queue_entry("p4", 7)), result::coalesced);
    EXPECT_EQ(q.push(queue_entry("no key")), result::overflow);
    std::vector<std::string> order;
    while (!q.empty()) {
        order.push_back(*q.front().payload);
        q.pop();
    }
    // p2 became p4 in place: updates stay in order, p1 still goes out first.
    EXPECT_EQ(order, (std::vector<std::string>{"p1", "other", "p4", "job 8"}));
}

TEST(outbound_queue, coalescing_keeps_the_byte_count_right)
{
    outbound_queue q({1, 1000, overflow_policy::close});
    q.push(queue_entry("aaaa", 5));
    EXPECT_EQ(q.push(queue_entry("bb", 5)), result::coalesced);
    EXPECT_EQ(q.bytes(), 2u);
}

TEST(outbound_queue, the_message_being_written_is_never_replaced_or_dropped)
{
    outbound_queue q({2, 1000, overflow_policy::close});
    q.push(queue_entry("p1", 5));
    auto const in_flight = q.front();  // the writer took it
    q.push(queue_entry("x"));
    EXPECT_EQ(q.push(queue_entry("p2", 5)), result::overflow) << "p1 is on the wire: nothing to replace";
    q.drop_waiting();
    EXPECT_EQ(q.messages(), 1u);
    EXPECT_EQ(*in_flight.payload, "p1");
    q.pop();
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(outbound_queue, storage_stays_bounded_when_the_queue_never_drains)
{
    outbound_queue q({8, 1000, overflow_policy::close});
    q.push(queue_entry("first"));
    for (int i = 0; i < 10'000; ++i) {
        ASSERT_EQ(q.push(queue_entry("next")), result::queued);
        (void)q.front();
        q.pop();
        ASSERT_EQ(q.messages(), 1u);
    }
    EXPECT_LE(q.capacity(), 128u) << "popped slots are reclaimed while messages keep waiting";
    EXPECT_EQ(*q.front().payload, "next");
}

}  // namespace
}  // namespace coropush
