// The topic hub against a GoogleMock of its backplane: when the hub tells the backplane to
// subscribe, unsubscribe and publish, and how messages from other nodes reach local subscribers.
#include "core/metrics.hpp"
#include "pubsub/topic_hub.hpp"
#include "support/mock_backplane.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace coropush {
namespace {
using coropush::testing::mock_backplane;
using ::testing::_;
using ::testing::InSequence;
using ::testing::NiceMock;
using ::testing::StrictMock;

// A subscriber that records what it was sent, and the buffers (to check they are shared).
class recording_target : public push_target {
public:
    explicit recording_target(std::uint64_t id)
        : id_(id)
    {
    }
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_frame frame) override
    {
        if (!accepting)
            return false;
        frames.push_back(std::move(frame));
        return true;
    }
    void disconnect(std::uint16_t, std::string) override {}

    std::vector<outbound_frame> frames;
    bool accepting = true;  // false: a subscriber being closed

private:
    std::uint64_t id_;
};

constexpr std::string_view message_one = R"({"type":"message","data":{"topic":"t","text":"one"}})";

TEST(topic_hub, the_backplane_subscribes_on_the_first_local_subscriber_and_unsubscribes_after_the_last)
{
    metrics stats;
    StrictMock<mock_backplane> link;
    topic_hub hub(stats, link);
    auto first = std::make_shared<recording_target>(1);
    auto second = std::make_shared<recording_target>(2);
    {
        InSequence in_order;
        EXPECT_CALL(link, subscribe("t")).Times(1);
        EXPECT_CALL(link, unsubscribe("t")).Times(1);
        EXPECT_CALL(link, subscribe("t")).Times(1);
    }
    EXPECT_TRUE(hub.subscribe("t", first));
    EXPECT_TRUE(hub.subscribe("t", second));
    EXPECT_FALSE(hub.subscribe("t", second)) << "already subscribed: nothing changes";
    EXPECT_TRUE(hub.unsubscribe("t", 1));
    EXPECT_FALSE(hub.unsubscribe("t", 1));
    EXPECT_TRUE(hub.unsubscribe("t", 2));  // the last one: unsubscribe
    EXPECT_TRUE(hub.subscribe("t", first));
    EXPECT_EQ(stats.topics.load(), 1);
    EXPECT_EQ(stats.subscriptions.load(), 1);
}

TEST(topic_hub, a_local_publish_shares_one_buffer_among_every_subscriber_and_is_forwarded)
{
    metrics stats;
    StrictMock<mock_backplane> link;
    topic_hub hub(stats, link);
    auto first = std::make_shared<recording_target>(1);
    auto second = std::make_shared<recording_target>(2);
    EXPECT_CALL(link, subscribe("t"));
    hub.subscribe("t", first);
    hub.subscribe("t", second);

    shared_payload forwarded;
    EXPECT_CALL(link, publish("t", _)).WillOnce([&](std::string const&, shared_payload const& p) { forwarded = p; });
    EXPECT_EQ(hub.publish("t", make_payload(std::string(message_one))), 2u);
    ASSERT_EQ(first->frames.size(), 1u);
    ASSERT_EQ(second->frames.size(), 1u);
    EXPECT_EQ(*first->frames[0].payload, message_one);
    EXPECT_EQ(first->frames[0].payload, second->frames[0].payload) << "one buffer for all";
    EXPECT_EQ(forwarded, first->frames[0].payload) << "the same buffer goes to the other nodes";
    EXPECT_EQ(stats.deliveries.load(), 2u);
}

TEST(topic_hub, a_subscriber_being_closed_is_not_counted_as_delivered)
{
    metrics stats;
    NiceMock<mock_backplane> link;
    topic_hub hub(stats, link);
    auto open = std::make_shared<recording_target>(1);
    auto closing = std::make_shared<recording_target>(2);
    hub.subscribe("t", open);
    hub.subscribe("t", closing);
    closing->accepting = false;  // e.g. closed 1008 as a slow consumer, not yet unsubscribed

    EXPECT_EQ(hub.publish("t", make_payload(std::string(message_one))), 1u);
    EXPECT_EQ(hub.deliver("t", make_payload(std::string(message_one))), 1u);
    EXPECT_EQ(stats.deliveries.load(), 2u);
    EXPECT_EQ(open->frames.size(), 2u);
}

TEST(topic_hub, a_publish_without_local_subscribers_still_goes_to_the_other_nodes)
{
    metrics stats;
    StrictMock<mock_backplane> link;
    topic_hub hub(stats, link);
    EXPECT_CALL(link, publish("nobody-here", _)).Times(1);
    EXPECT_EQ(hub.publish("nobody-here", make_payload("x")), 0u);
}

TEST(topic_hub, a_message_from_another_node_reaches_local_subscribers_and_is_not_forwarded_again)
{
    metrics stats;
    StrictMock<mock_backplane> link;  // strict: any publish() here would fail the test
    topic_hub hub(stats, link);
    auto local = std::make_shared<recording_target>(7);
    EXPECT_CALL(link, subscribe("t"));
    hub.subscribe("t", local);

    auto const remote = make_payload(std::string(message_one));
    EXPECT_EQ(hub.deliver("t", remote), 1u);
    EXPECT_EQ(hub.deliver("other", remote), 0u);
    ASSERT_EQ(local->frames.size(), 1u);
    EXPECT_EQ(local->frames[0].payload, remote);
}

}  // namespace
}  // namespace coropush
