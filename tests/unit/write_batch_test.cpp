// The batch the batching layer holds, without sockets: which writes are held, its two bounds,
// and that a sent batch gives its storage back.
#include "net/write_batch.hpp"

#include <array>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace coropush::net {
namespace {
using plan = write_batch::plan;

std::string_view held_text(write_batch const& batch)
{
    auto const held = batch.held();
    return {static_cast<char const*>(held.data()), held.size()};
}

TEST(write_batch, a_closed_batch_holds_nothing)
{
    write_batch batch;
    EXPECT_EQ(batch.plan_for(10), plan::pass);
    batch.open();
    EXPECT_EQ(batch.plan_for(10), plan::hold);
    batch.close();
    EXPECT_EQ(batch.plan_for(10), plan::pass);
}

TEST(write_batch, holds_whole_buffer_sequences_in_order)
{
    write_batch batch;
    batch.open();
    std::array<boost::asio::const_buffer, 2> const header_and_payload{boost::asio::buffer("ab", 2),
                                                                      boost::asio::buffer("cd", 2)};
    batch.hold(header_and_payload);
    batch.hold(boost::asio::buffer("ef", 2));
    EXPECT_EQ(held_text(batch), "abcdef");
    EXPECT_EQ(batch.writes(), 2u);
    EXPECT_EQ(batch.bytes(), 6u);
}

TEST(write_batch, a_write_past_the_byte_bound_leaves_with_what_is_held)
{
    write_batch batch({10, 64, 10});
    batch.open();
    ASSERT_EQ(batch.plan_for(6), plan::hold);
    batch.hold(boost::asio::buffer("123456", 6));
    EXPECT_EQ(batch.plan_for(4), plan::hold) << "exactly at the bound still fits";
    EXPECT_EQ(batch.plan_for(5), plan::send_all);
}

TEST(write_batch, the_write_that_reaches_the_write_bound_leaves_with_what_is_held)
{
    write_batch batch({1024, 3, 1024});
    batch.open();
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(batch.plan_for(1), plan::hold);
        batch.hold(boost::asio::buffer("x", 1));
    }
    EXPECT_EQ(batch.plan_for(1), plan::send_all) << "a gathered write carries at most max_writes writes";
}

TEST(write_batch, a_write_too_large_to_hold_passes_through_when_nothing_is_held)
{
    write_batch batch({10, 64, 10});
    batch.open();
    EXPECT_EQ(batch.plan_for(11), plan::pass) << "a large frame is never copied";
}

TEST(write_batch, a_large_write_is_never_copied_even_when_it_fits)
{
    write_batch batch({std::size_t{1} << 20, 64, 100});
    batch.open();
    EXPECT_EQ(batch.plan_for(100), plan::hold);
    EXPECT_EQ(batch.plan_for(101), plan::pass) << "worth a system call of its own";
}

TEST(write_batch, a_closed_batch_that_still_holds_sends_everything_with_the_next_write)
{
    write_batch batch;
    batch.open();
    batch.hold(boost::asio::buffer("a", 1));
    batch.close();
    EXPECT_EQ(batch.plan_for(1), plan::send_all) << "nothing may overtake what is held";
}

TEST(write_batch, a_sent_batch_gives_its_storage_back)
{
    write_batch batch;
    batch.open();
    batch.hold(boost::asio::buffer(std::string(3000, 'x')));
    EXPECT_GE(batch.capacity(), 3000u);
    batch.clear();
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.capacity(), 0u) << "an idle connection keeps no batch buffer";
    EXPECT_TRUE(batch.is_open()) << "clearing is not closing";
}

TEST(write_batch, after_a_partial_write_the_rest_stays_held_in_order)
{
    write_batch batch;
    batch.open();
    batch.hold(boost::asio::buffer("abc", 3));
    batch.hold(boost::asio::buffer("def", 3));
    batch.consume(2);
    EXPECT_EQ(held_text(batch), "cdef");
    EXPECT_FALSE(batch.empty());
    batch.consume(4);
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.capacity(), 0u);
}

TEST(write_batch, with_one_write_per_batch_nothing_is_ever_held)
{
    write_batch batch({1024, 1, 1024});
    batch.open();
    EXPECT_EQ(batch.plan_for(1), plan::pass);
}

}  // namespace
}  // namespace coropush::net
