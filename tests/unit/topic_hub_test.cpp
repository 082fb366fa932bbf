// The topic hub against a GoogleMock of its backplane: when the hub tells the backplane to
// subscribe, unsubscribe and publish, and how messages from other nodes reach local subscribers;
// and against shards that hold what they are handed: one part per shard, not a hand-off per
// subscriber.
#include "core/metrics.hpp"
#include "support/mock_backplane.hpp"
#include "topics/topic_hub.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <set>
#include <utility>
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
    explicit recording_target(std::uint64_t id, std::size_t shard = 0)
        : id_(id),
          shard_(shard)
    {
    }
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_message frame) override
    {
        if (!taking_messages)
            return false;
        ++handed_off;
        frames.push_back(std::move(frame));
        return true;
    }
    std::size_t shard() const noexcept override { return shard_; }
    bool accepting() const noexcept override { return taking_messages; }
    void push_here(outbound_message frame) override { frames.push_back(std::move(frame)); }
    void close_websocket(std::uint16_t, std::string) override {}

    std::vector<outbound_message> frames;
    int handed_off = 0;           // frames that came through push(), which hands off to the connection
    bool taking_messages = true;  // false: a subscriber being closed

private:
    std::uint64_t id_;
    std::size_t shard_;
};

// Shards that keep each part they are handed until the test runs them, in the order handed.
class held_shards : public fanout_shards {
public:
    explicit held_shards(std::size_t count)
        : count_(count)
    {
    }
    std::size_t size() const noexcept override { return count_; }
    void run(std::size_t index, std::function<void()> part) override { held.emplace_back(index, std::move(part)); }
    void run_held()
    {
        for (auto& handed : std::exchange(held, {}))
            handed.second();
    }

    std::vector<std::pair<std::size_t, std::function<void()>>> held;

private:
    std::size_t count_;
};

constexpr std::string_view message_one = R"({"type":"message","data":{"topic":"t","text":"one"}})";

TEST(topic_hub, the_backplane_subscribes_on_the_first_local_subscriber_and_unsubscribes_after_the_last)
{
    metrics stats;
    StrictMock<mock_backplane> link;
    topics::topic_hub hub(stats, link);
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
    topics::topic_hub hub(stats, link);
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
    topics::topic_hub hub(stats, link);
    auto open = std::make_shared<recording_target>(1);
    auto closing = std::make_shared<recording_target>(2);
    hub.subscribe("t", open);
    hub.subscribe("t", closing);
    closing->taking_messages = false;  // e.g. closed 1008 as a slow consumer, not yet unsubscribed

    EXPECT_EQ(hub.publish("t", make_payload(std::string(message_one))), 1u);
    EXPECT_EQ(hub.deliver("t", make_payload(std::string(message_one))), 1u);
    EXPECT_EQ(stats.deliveries.load(), 2u);
    EXPECT_EQ(open->frames.size(), 2u);
}

TEST(topic_hub, a_publish_without_local_subscribers_still_goes_to_the_other_nodes)
{
    metrics stats;
    StrictMock<mock_backplane> link;
    topics::topic_hub hub(stats, link);
    EXPECT_CALL(link, publish("nobody-here", _)).Times(1);
    EXPECT_EQ(hub.publish("nobody-here", make_payload("x")), 0u);
}

TEST(topic_hub, a_message_from_another_node_reaches_local_subscribers_and_is_not_forwarded_again)
{
    metrics stats;
    StrictMock<mock_backplane> link;  // strict: any publish() here would fail the test
    topics::topic_hub hub(stats, link);
    auto local = std::make_shared<recording_target>(7);
    EXPECT_CALL(link, subscribe("t"));
    hub.subscribe("t", local);

    auto const remote = make_payload(std::string(message_one));
    EXPECT_EQ(hub.deliver("t", remote), 1u);
    EXPECT_EQ(hub.deliver("other", remote), 0u);
    ASSERT_EQ(local->frames.size(), 1u);
    EXPECT_EQ(local->frames[0].payload, remote);
}

// A hub on four shards that hold the parts they are handed until the test runs them.
class topic_hub_on_shards : public ::testing::Test {
protected:
    metrics stats_;
    NiceMock<mock_backplane> link_;
    held_shards shards_{4};
    topics::topic_hub hub_{stats_, link_, shards_};
};

TEST_F(topic_hub_on_shards,
       a_publish_hands_each_shard_with_subscribers_one_part_and_no_subscriber_a_hand_off_of_its_own)
{
    std::vector<std::shared_ptr<recording_target>> subscribers;
    for (std::uint64_t id = 1; id <= 30; ++id) {
        std::size_t const shard = std::array<std::size_t, 3>{0, 1, 3}[id % 3];  // none on shard 2
        subscribers.push_back(std::make_shared<recording_target>(id, shard));
        hub_.subscribe("t", subscribers.back());
    }

    EXPECT_EQ(hub_.publish("t", make_payload(std::string(message_one))), 30u);
    std::multiset<std::size_t> handed_to;
    for (auto const& handed : shards_.held)
        handed_to.insert(handed.first);
    EXPECT_EQ(handed_to, (std::multiset<std::size_t>{0, 1, 3})) << "one part per shard with subscribers";
    for (auto const& s : subscribers)
        EXPECT_TRUE(s->frames.empty()) << "nothing is pushed until the shard runs its part";

    shards_.run_held();
    for (auto const& s : subscribers) {
        ASSERT_EQ(s->frames.size(), 1u);
        EXPECT_EQ(s->handed_off, 0) << "pushed on its shard, not handed off to it one by one";
        EXPECT_EQ(s->frames[0].payload, subscribers[0]->frames[0].payload) << "one buffer for all";
    }
    EXPECT_EQ(stats_.deliveries.load(), 30u);
}

TEST_F(topic_hub_on_shards, every_subscriber_of_a_shard_gets_two_publishes_in_publish_order)
{
    auto first = std::make_shared<recording_target>(1, 0);
    auto second = std::make_shared<recording_target>(2, 1);
    auto third = std::make_shared<recording_target>(3, 1);
    for (auto const& s : {first, second, third})
        hub_.subscribe("t", s);

    hub_.publish("t", make_payload("one"));
    hub_.deliver("t", make_payload("two"));  // from another node: the same way
    EXPECT_EQ(shards_.held.size(), 4u) << "two parts per message: one per shard";
    shards_.run_held();
    for (auto const& s : {first, second, third}) {
        ASSERT_EQ(s->frames.size(), 2u);
        EXPECT_EQ(*s->frames[0].payload, "one");
        EXPECT_EQ(*s->frames[1].payload, "two");
    }
}

TEST_F(topic_hub_on_shards, a_subscriber_that_leaves_before_its_shard_runs_the_part_is_kept_alive_until_then)
{
    auto leaving = std::make_shared<recording_target>(1, 1);
    std::weak_ptr<recording_target> const watch = leaving;
    hub_.subscribe("t", leaving);

    hub_.publish("t", make_payload("x"));
    hub_.unsubscribe("t", 1);
    leaving.reset();  // its session has ended: only the part holds it now
    EXPECT_FALSE(watch.expired());
    shards_.run_held();
    EXPECT_TRUE(watch.expired()) << "the part lets go of it once run";
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(topic_hub_on_shards, a_subscribed_publisher_gets_its_own_message_at_once_and_its_shard_peers_through_the_shard)
{
    auto publisher = std::make_shared<recording_target>(5, 1);
    auto peer = std::make_shared<recording_target>(6, 1);
    hub_.subscribe("t", publisher);
    hub_.subscribe("t", peer);

    EXPECT_EQ(hub_.publish("t", make_payload("mine"), 5), 2u);
    ASSERT_EQ(publisher->frames.size(), 1u) << "before the reply its caller is about to queue";
    EXPECT_EQ(publisher->handed_off, 0) << "pushed in place: the caller is on its shard";
    EXPECT_TRUE(peer->frames.empty());
    ASSERT_EQ(shards_.held.size(), 1u);
    EXPECT_EQ(shards_.held[0].first, 1u);
    shards_.run_held();
    EXPECT_EQ(peer->frames.size(), 1u);
    EXPECT_EQ(publisher->frames.size(), 1u) << "once";
}

}  // namespace
}  // namespace coropush
