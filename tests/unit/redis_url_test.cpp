// redis://HOST[:PORT][/NAMESPACE]: what --backplane accepts.
#include "pubsub/redis_url.hpp"

#include <gtest/gtest.h>

namespace coropush {
namespace {

TEST(redis_url, host_port_and_namespace_with_defaults)
{
    auto const full = pubsub::parse_redis_url("redis://cache.internal:6380/chat");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->host, "cache.internal");
    EXPECT_EQ(full->port, 6380);
    EXPECT_EQ(full->name_space, "chat");

    auto const bare = pubsub::parse_redis_url("redis://127.0.0.1");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->host, "127.0.0.1");
    EXPECT_EQ(bare->port, 6379);
    EXPECT_EQ(bare->name_space, "coropush");

    auto const v6 = pubsub::parse_redis_url("redis://[::1]:7000");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 7000);
}

TEST(redis_url, anything_else_is_refused)
{
    for (char const* bad : {"", "redis://", "http://localhost:6379", "redis://host:", "redis://host:0",
                            "redis://host:65536", "redis://host:12x", "redis://::1:6379", "redis://[::1",
                            "redis://host/", "redis://host/bad space", "redis://ho st", "rediss://host"})
        EXPECT_FALSE(pubsub::parse_redis_url(bad)) << bad;
}

}  // namespace
}  // namespace coropush
