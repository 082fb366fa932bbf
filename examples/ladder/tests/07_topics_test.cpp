// Step 7, topics: a publish reaches every subscriber of its topic, and only them.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace coropush::testing::ladder {
namespace {
namespace asio = boost::asio;
using asio::awaitable;
using client::ws_client;

awaitable<ws_client> subscribed_to(std::uint16_t port, std::string topic)
{
    auto client = co_await connect(port);
    // Named first: GCC 12 cannot take a braced list of string literals inside a co_await expression.
    boost::json::object const request{{"topic", topic}};
    co_await send_request(client, "subscribe", 1, request);
    auto const reply = co_await expect(client, "subscribed");
    require(text_of(reply, "topic") == topic, "subscribed to the topic asked for");
    co_return client;
}

// Publishes and returns how many subscribers the message was queued for.
awaitable<std::uint64_t> publish_on(ws_client& publisher, std::string topic, std::string text, std::uint64_t id)
{
    boost::json::object const request{{"topic", topic}, {"text", text}};
    co_await send_request(publisher, "publish", id, request);
    auto const reply = co_await expect(publisher, "published");
    require(reply.id == id, "the reply carries the publish's id");
    co_return reply.data.at("delivered").to_number<std::uint64_t>();
}

TEST(ladder_07_topics, a_publish_reaches_every_subscriber_of_its_topic_and_no_one_else)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-07-topics");
        auto const port = co_await listening_port(step);
        std::vector<ws_client> news;
        news.reserve(3);
        for (int i = 0; i < 3; ++i)
            news.push_back(co_await subscribed_to(port, "news"));
        auto sport = co_await subscribed_to(port, "sport");
        auto publisher = co_await connect(port);

        EXPECT_EQ(co_await publish_on(publisher, "news", "rain tomorrow", 1), 3u);
        for (auto& subscriber : news) {
            auto const message = co_await expect(subscriber, "message");
            EXPECT_EQ(text_of(message, "topic"), "news");
            EXPECT_EQ(text_of(message, "text"), "rain tomorrow");
        }
        // The sport subscriber's first message is the sport one: it never got the news.
        EXPECT_EQ(co_await publish_on(publisher, "sport", "2-1", 2), 1u);
        EXPECT_EQ(text_of(co_await expect(sport, "message"), "text"), "2-1");

        for (auto& subscriber : news)
            co_await subscriber.close();
        co_await sport.close();
        co_await publisher.close();
    });
}

TEST(ladder_07_topics, a_subscriber_that_left_is_no_longer_counted)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-07-topics");
        auto const port = co_await listening_port(step);
        auto leaving = co_await subscribed_to(port, "news");
        auto staying = co_await subscribed_to(port, "news");
        co_await leaving.close();
        co_await step.wait_for_line("session 1: closed");

        auto publisher = co_await connect(port);
        EXPECT_EQ(co_await publish_on(publisher, "news", "still here?", 1), 1u);
        EXPECT_EQ(text_of(co_await expect(staying, "message"), "text"), "still here?");
        co_await staying.close();
        co_await publisher.close();
    });
}

TEST(ladder_07_topics, a_publish_to_a_topic_without_subscribers_is_delivered_to_no_one)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await asio::this_coro::executor, "ladder-07-topics");
        auto publisher = co_await connect(co_await listening_port(step));
        EXPECT_EQ(co_await publish_on(publisher, "empty", "anyone?", 1), 0u);
        co_await publisher.close();
    });
}

}  // namespace
}  // namespace coropush::testing::ladder
