// Redis replies copied out of hiredis's structures: every kind, nested arrays, and the accessors
// the job store reads them with.
#include "pubsub/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace coropush {
namespace {

redisReply text_reply(int type, std::string& text)
{
    redisReply r{};
    r.type = type;
    r.str = text.data();
    r.len = text.size();
    return r;
}

TEST(redis_reply, a_nested_array_is_copied_with_every_kind_of_element)
{
    std::string ok = "ok";
    std::string seq = "42";
    std::string bad = "ERR no";
    auto status = text_reply(REDIS_REPLY_STATUS, ok);
    auto number_text = text_reply(REDIS_REPLY_STRING, seq);
    auto error = text_reply(REDIS_REPLY_ERROR, bad);
    redisReply integer{};
    integer.type = REDIS_REPLY_INTEGER;
    integer.integer = -7;
    redisReply nil{};
    nil.type = REDIS_REPLY_NIL;
    std::array<redisReply*, 2> inner_elements{&number_text, &nil};
    redisReply inner{};
    inner.type = REDIS_REPLY_ARRAY;
    inner.elements = inner_elements.size();
    inner.element = inner_elements.data();
    std::array<redisReply*, 4> outer_elements{&status, &integer, &error, &inner};
    redisReply outer{};
    outer.type = REDIS_REPLY_ARRAY;
    outer.elements = outer_elements.size();
    outer.element = outer_elements.data();

    auto const copy = pubsub::redis_reply::copy_of(&outer);
    ok = seq = bad = "gone";  // nothing of hiredis's is kept
    ASSERT_EQ(copy.what, pubsub::redis_reply::kind::array);
    ASSERT_EQ(copy.elements.size(), 4u);
    EXPECT_EQ(copy.at(0).text, "ok");
    EXPECT_TRUE(copy.at(0).is_string());
    EXPECT_EQ(copy.at(1).number(), -7);
    EXPECT_EQ(copy.at(2).what, pubsub::redis_reply::kind::error);
    EXPECT_EQ(copy.at(2).text, "ERR no");
    EXPECT_EQ(copy.at(3).at(0).number(), 42) << "a number in a string reply";
    EXPECT_EQ(copy.at(3).at(1).what, pubsub::redis_reply::kind::nil);
    EXPECT_EQ(copy.at(3).at(5).what, pubsub::redis_reply::kind::none) << "no such element";
    EXPECT_EQ(copy.at(2).number(), 0) << "an error is no number";
}

TEST(redis_reply, no_reply_is_kind_none)
{
    EXPECT_EQ(pubsub::redis_reply::copy_of(nullptr).what, pubsub::redis_reply::kind::none);
}

}  // namespace
}  // namespace coropush
