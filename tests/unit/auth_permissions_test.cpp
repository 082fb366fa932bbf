// Topic patterns, and the permission matrix: auth mode x client x operation x topic.
#include "auth/permissions.hpp"
#include "auth/topic_pattern.hpp"

#include <gtest/gtest.h>

namespace coropush::auth {
namespace {

TEST(topic_pattern, star_matches_any_run_of_characters_including_none)
{
    EXPECT_TRUE(pattern_matches("news.*", "news.eu"));
    EXPECT_TRUE(pattern_matches("news.*", "news."));
    EXPECT_TRUE(pattern_matches("news.*", "news.eu.sport:live/1"));
    EXPECT_FALSE(pattern_matches("news.*", "news"));
    EXPECT_FALSE(pattern_matches("news.*", "old.news.eu"));
    EXPECT_TRUE(pattern_matches("*", "anything:at/all"));
    EXPECT_TRUE(pattern_matches("*.eu", "news.eu"));
    EXPECT_FALSE(pattern_matches("*.eu", "news.eu.sport"));
    EXPECT_TRUE(pattern_matches("chat:*:log", "chat:room-1:log"));
    EXPECT_TRUE(pattern_matches("chat:*:log", "chat::log"));
    EXPECT_FALSE(pattern_matches("chat:*:log", "chat:room-1:logs"));
    EXPECT_TRUE(pattern_matches("a*b*c", "aXbYbZc"));  // needs backtracking past the first b
    EXPECT_TRUE(pattern_matches("a**c", "ac"));
}

TEST(topic_pattern, without_a_star_the_topic_must_be_equal)
{
    EXPECT_TRUE(pattern_matches("chat:room-1", "chat:room-1"));
    EXPECT_FALSE(pattern_matches("chat:room-1", "chat:room-10"));
    EXPECT_FALSE(pattern_matches("chat:room-1", "chat:room-"));
    EXPECT_FALSE(pattern_matches("Chat", "chat"));
}

TEST(topic_pattern, a_long_topic_against_many_stars_ends_quickly)
{
    std::string const topic(128, 'a');
    EXPECT_FALSE(pattern_matches("*a*a*a*a*a*a*a*a*a*a*b", topic));
    EXPECT_TRUE(pattern_matches("*a*a*a*a*a*a*a*a*a*a*", topic));
}

TEST(topic_pattern, valid_patterns_are_topic_names_with_stars)
{
    EXPECT_TRUE(valid_topic_pattern("news.*", 128));
    EXPECT_TRUE(valid_topic_pattern("*", 128));
    EXPECT_TRUE(valid_topic_pattern("user:alice", 128));
    EXPECT_FALSE(valid_topic_pattern("", 128));
    EXPECT_FALSE(valid_topic_pattern("news *", 128));
    EXPECT_FALSE(valid_topic_pattern("news?", 128));
    EXPECT_FALSE(valid_topic_pattern(std::string(129, '*'), 128));
}

TEST(auth_mode, parses_the_option_values)
{
    EXPECT_EQ(parse_auth_mode("off"), auth_mode::off);
    EXPECT_EQ(parse_auth_mode("optional"), auth_mode::optional);
    EXPECT_EQ(parse_auth_mode("required"), auth_mode::required);
    EXPECT_EQ(parse_auth_mode("on"), std::nullopt);
    EXPECT_EQ(parse_auth_mode(""), std::nullopt);
    EXPECT_EQ(to_string(auth_mode::required), "required");
}

TEST(permissions, personal_topic_is_user_colon_sub)
{
    EXPECT_EQ(personal_topic("alice"), "user:alice");
}

// The clients of the matrix.
enum class client { anonymous, alice, support };

identity const alice{"alice", {}, {"news.*", "chat:room-1"}, {"chat:*"}};  // NOLINT(cert-err58-cpp): a test fixture
// A support desk's token: reads every public topic, writes to anyone's personal topic.
identity const support{"support", {}, {"*"}, {"user:*"}};  // NOLINT(cert-err58-cpp): a test fixture

identity const* as_identity(client who)
{
    switch (who) {
    case client::alice:
        return &alice;
    case client::support:
        return &support;
    case client::anonymous:
        break;
    }
    return nullptr;
}

struct permission_case {
    auth_mode mode;
    client who;
    topic_operation operation;
    char const* topic;
    bool expected;
};

std::ostream& operator<<(std::ostream& out, permission_case const& row)
{
    return out << to_string(row.mode) << ", client " << static_cast<int>(row.who) << ", "
               << (row.operation == topic_operation::subscribe ? "subscribe " : "publish ") << row.topic;
}

constexpr auto off = auth_mode::off;
constexpr auto opt = auth_mode::optional;
constexpr auto req = auth_mode::required;
constexpr auto sub = topic_operation::subscribe;
constexpr auto pub = topic_operation::publish;
constexpr auto anon = client::anonymous;
constexpr auto ali = client::alice;
constexpr auto desk = client::support;

permission_case const permission_matrix[] = {
    // off: everything, for everyone, personal topics included.
    {off, anon, sub, "news.eu", true},
    {off, anon, pub, "secret", true},
    {off, anon, sub, "user:alice", true},
    {off, ali, pub, "user:bob", true},
    // required: anonymous clients get nothing, not even the anonymous patterns.
    {req, anon, sub, "news.public", false},
    {req, anon, pub, "lobby", false},
    {req, anon, sub, "user:alice", false},
    // required: a token's patterns, per operation.
    {req, ali, sub, "news.eu", true},
    {req, ali, sub, "news", false},
    {req, ali, sub, "chat:room-1", true},
    {req, ali, sub, "chat:room-2", false},
    {req, ali, pub, "chat:room-2", true},
    {req, ali, pub, "news.eu", false},  // may read the news, not write it
    {req, ali, sub, "news.public", true},
    {req, ali, pub, "lobby", false},  // anonymous patterns do not apply under required
    // Personal topics: only their owner subscribes, whatever the patterns.
    {req, ali, sub, "user:alice", true},
    {req, ali, sub, "user:bob", false},
    {req, desk, sub, "user:alice", false},  // "*" does not reach personal topics
    {req, desk, sub, "user:support", true},
    {req, desk, sub, "anything.public", true},
    // Publishing to a personal topic needs a pattern that names "user:" itself.
    {req, ali, pub, "user:alice", false},
    {req, desk, pub, "user:alice", true},
    {req, desk, pub, "chat:room-1", false},
    // optional: anonymous clients get the anonymous patterns.
    {opt, anon, sub, "news.public", true},
    {opt, anon, sub, "news.eu", false},
    {opt, anon, pub, "lobby", true},
    {opt, anon, pub, "lobby.vip", false},
    {opt, anon, sub, "user:alice", false},
    {opt, anon, pub, "user:alice", false},
    // optional: a token adds to the anonymous patterns, never takes away.
    {opt, ali, sub, "news.public", true},
    {opt, ali, pub, "lobby", true},
    {opt, ali, pub, "chat:room-9", true},
    {opt, ali, sub, "chat:room-9", false},
    {opt, ali, sub, "user:alice", true},
    {opt, ali, sub, "user:bob", false},
};

TEST(permissions, matrix_of_mode_client_operation_and_topic)
{
    access_policy policy;
    policy.anonymous_subscribe = {"news.public"};
    policy.anonymous_publish = {"lobby"};
    for (auto const& row : permission_matrix) {
        policy.mode = row.mode;
        EXPECT_EQ(allowed(policy, as_identity(row.who), row.operation, row.topic), row.expected) << row;
    }
}

TEST(permissions, an_anonymous_star_pattern_reaches_no_personal_topic)
{
    access_policy const open{auth_mode::optional, {"*"}, {"*"}};
    EXPECT_TRUE(allowed(open, nullptr, topic_operation::subscribe, "news.eu"));
    EXPECT_TRUE(allowed(open, nullptr, topic_operation::publish, "news.eu"));
    EXPECT_FALSE(allowed(open, nullptr, topic_operation::subscribe, "user:alice"));
    EXPECT_FALSE(allowed(open, nullptr, topic_operation::publish, "user:alice"));
}

}  // namespace
}  // namespace coropush::auth
