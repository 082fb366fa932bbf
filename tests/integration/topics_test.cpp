// Pub/sub over the JSON dialect, end to end: the exact wire shapes, fan-out to many clients
// (every message once, in publish order; on one io thread and on four shards), delivered counts,
// clean-up and validation.
#include "client/ws_client.hpp"
#include "support/api_client.hpp"
#include "support/json_clients.hpp"
#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <map>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using client::ws_client;

// Runs the coroutines concurrently and rethrows the first failure.
awaitable<void> all_of(std::vector<awaitable<void>> tasks)
{
    auto executor = co_await boost::asio::this_coro::executor;
    std::vector<decltype(boost::asio::co_spawn(executor, std::move(tasks.front()), boost::asio::deferred))> runs;
    runs.reserve(tasks.size());
    for (auto& t : tasks)
        runs.push_back(boost::asio::co_spawn(executor, std::move(t), boost::asio::deferred));
    auto [order, failures] = co_await boost::asio::experimental::make_parallel_group(std::move(runs))
                                 .async_wait(boost::asio::experimental::wait_for_all(), boost::asio::use_awaitable);
    for (auto const& failure : failures)
        if (failure)
            std::rethrow_exception(failure);
}

TEST(topics, wire_shapes_are_exactly_as_documented)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto a = co_await ws_client::connect(json(server.port()));
        co_await a.send_text(R"({"type":"subscribe","id":11,"data":{"topic":"news"}})");
        auto const subscribed = co_await a.receive();
        EXPECT_EQ(subscribed.payload, R"({"type":"subscribed","id":11,"data":{"topic":"news"}})");

        co_await a.send_text(R"({"type":"publish","id":12,"data":{"topic":"news","text":"héllo \"q\""}})");
        auto const message = co_await a.receive();
        auto const published = co_await a.receive();
        EXPECT_EQ(message.payload, R"({"type":"message","data":{"topic":"news","text":"héllo \"q\""}})");
        EXPECT_EQ(published.payload, R"({"type":"published","id":12,"data":{"topic":"news","delivered":1}})");

        co_await a.send_text(R"({"type":"unsubscribe","id":13,"data":{"topic":"news"}})");
        auto const unsubscribed = co_await a.receive();
        EXPECT_EQ(unsubscribed.payload, R"({"type":"unsubscribed","id":13,"data":{"topic":"news"}})");

        co_await a.send_text(R"({"type":"publish","id":14,"data":{"topic":"news","text":"nobody"}})");
        auto const none = co_await a.receive();
        EXPECT_EQ(none.payload, R"({"type":"published","id":14,"data":{"topic":"news","delivered":0}})");
        co_await a.close();
    });
}

// Each of `subscribers` clients reads `per_publisher * publishers` messages and checks it got
// each publisher's messages exactly once and in that publisher's order.
void fan_out(unsigned io_threads)
{
    constexpr int subscribers = 40;
    constexpr int publishers = 2;
    constexpr int per_publisher = 50;
    test_server server(test_options(), io_threads);
    run_client(
        [&]() -> awaitable<void> {
            std::vector<ws_client> subs;
            subs.reserve(subscribers);
            for (int i = 0; i < subscribers; ++i)
                subs.push_back(co_await subscriber(server.port(), "fan"));

            auto publish = [&](int who) -> awaitable<void> {
                auto p = co_await ws_client::connect(json(server.port()));
                for (int n = 0; n < per_publisher; ++n) {
                    protocol::publish const m{"fan", std::to_string(who) + ":" + std::to_string(n)};
                    co_await p.send(m, static_cast<std::uint64_t>(n));
                    auto const [published, id] = co_await p.receive_as<protocol::published>();
                    EXPECT_EQ(published.delivered, static_cast<std::uint64_t>(subscribers));
                    EXPECT_EQ(id, static_cast<std::uint64_t>(n));
                }
                co_await p.close();
            };
            auto receive = [&](ws_client& sub) -> awaitable<void> {
                std::map<int, int> next;  // publisher -> next expected sequence
                for (int i = 0; i < publishers * per_publisher; ++i) {
                    auto const text = co_await next_text(sub);
                    auto const colon = text.find(':');
                    int const who = std::stoi(text.substr(0, colon));
                    int const n = std::stoi(text.substr(colon + 1));
                    EXPECT_EQ(n, next[who]) << "publisher " << who << "'s messages out of order or repeated";
                    next[who] = n + 1;
                }
                for (int who = 0; who < publishers; ++who)
                    EXPECT_EQ(next[who], per_publisher);
            };

            std::vector<awaitable<void>> tasks;
            tasks.reserve(publishers + subscribers);
            for (int who = 0; who < publishers; ++who)
                tasks.push_back(publish(who));
            for (auto& sub : subs)
                tasks.push_back(receive(sub));
            co_await all_of(std::move(tasks));
            for (auto& sub : subs)
                co_await sub.close();
        },
        std::chrono::seconds(30));
    server.stop();
    EXPECT_EQ(server.metrics().publishes.load(), static_cast<std::uint64_t>(publishers * per_publisher));
    EXPECT_EQ(server.metrics().deliveries.load(), static_cast<std::uint64_t>(publishers * per_publisher * subscribers));
}

TEST(topics, publish_reaches_every_subscriber_once_in_each_publishers_order)
{
    fan_out(1);
}

TEST(topics, fan_out_keeps_its_guarantees_on_four_io_threads)
{
    fan_out(4);
}

constexpr char sharded_api_key[] = "the backend's key for the sharded fan-out test";

// On four io threads the connections are spread over four shards, and a publish is handed to each
// shard once. The messages come one after the other from a subscribed WebSocket publisher (which
// gets its own message before its reply) and from the backend's API, each request over a new
// connection, so from shard after shard: a message whose publish was answered is never overtaken
// by the next, on any shard, and every subscriber gets every message once, in that order.
TEST(topics, on_four_shards_every_subscriber_gets_session_and_api_messages_in_the_order_they_were_answered)
{
    constexpr int subscribers = 48;
    constexpr int rounds = 40;
    constexpr std::uint64_t everyone = subscribers + 1;  // the publisher is subscribed too
    auto options = test_options();
    options.api_key = sharded_api_key;
    test_server server(options, 4);
    run_client(
        [&]() -> awaitable<void> {
            std::vector<ws_client> subs;
            subs.reserve(subscribers);
            for (int i = 0; i < subscribers; ++i)
                subs.push_back(co_await subscriber(server.port(), "sharded"));
            auto publisher = co_await subscriber(server.port(), "sharded");
            for (int n = 0; n < rounds; ++n) {
                protocol::publish const m{"sharded", "session " + std::to_string(n)};
                co_await publisher.send(m, static_cast<std::uint64_t>(n) + 2);
                auto const own = co_await publisher.receive_as<protocol::message>();
                EXPECT_EQ(own.first.text, m.text) << "its own message first";
                auto const [published, id] = co_await publisher.receive_as<protocol::published>();
                EXPECT_EQ(published.delivered, everyone);

                auto const api = co_await call_api(server.port(), sharded_api_key, "POST", "/api/publish",
                                                   R"({"topic":"sharded","text":"api )" + std::to_string(n) + R"("})");
                EXPECT_EQ(api.status, 200u);
                EXPECT_EQ(api.body.at("delivered").to_number<std::uint64_t>(), everyone);
                EXPECT_EQ(co_await next_text(publisher), "api " + std::to_string(n));
            }
            for (auto& sub : subs) {
                for (int n = 0; n < rounds; ++n) {
                    EXPECT_EQ(co_await next_text(sub), "session " + std::to_string(n));
                    EXPECT_EQ(co_await next_text(sub), "api " + std::to_string(n));
                }
            }
            for (auto& sub : subs)
                co_await sub.close();
            co_await publisher.close();
        },
        std::chrono::seconds(30));
    server.stop();
    EXPECT_EQ(server.metrics().deliveries.load(), everyone * 2 * rounds);
}

TEST(topics, a_publisher_subscribed_to_its_topic_gets_its_own_message_before_the_reply)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto a = co_await subscriber(server.port(), "self");
        protocol::publish const m{"self", "to myself"};
        co_await a.send(m, 2);
        auto const message = co_await a.receive_as<protocol::message>();
        auto const published = co_await a.receive_as<protocol::published>();
        EXPECT_EQ(message.first.text, "to myself");
        EXPECT_EQ(published.first.delivered, 1u);
        co_await a.close();
    });
}

// A delivery to an idle subscriber is framed by the session itself, not by Beast (it leaves
// without a writer: websocket_session::send_now), up to 16 KiB; a larger one goes through the
// writer. Messages on both sides of each header size (7-bit, 16-bit length) and of that bound
// arrive whole, as Beast's client reads them.
TEST(topics, deliveries_of_every_header_size_arrive_whole)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto publisher = co_await ws_client::connect(json(server.port()));
        auto subscriber_b = co_await subscriber(server.port(), "sizes");
        std::string const envelope_start = R"({"type":"message","data":{"topic":"sizes","text":")";
        std::string const envelope_end = R"("}})";
        auto const overhead = envelope_start.size() + envelope_end.size();
        std::uint64_t id = 1;
        for (std::size_t const size : {std::size_t{125}, std::size_t{126}, std::size_t{16} * 1024,
                                       std::size_t{16} * 1024 + 1, std::size_t{60000}}) {
            std::string const text(size - overhead, 'x');
            std::string expected = envelope_start;
            expected += text;
            expected += envelope_end;
            protocol::publish const m{"sizes", text};
            co_await publisher.send(m, id++);
            auto const delivered = co_await subscriber_b.receive();
            EXPECT_EQ(delivered.payload.size(), size);
            EXPECT_EQ(delivered.payload, expected);
            co_await publisher.receive();  // the publish's reply
        }
        co_await subscriber_b.close();
        co_await publisher.close();
    });
}

TEST(topics, unsubscribe_and_disconnect_remove_subscriptions)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto a = co_await subscriber(server.port(), "t");
        auto b = co_await subscriber(server.port(), "t");
        {
            auto c = co_await subscriber(server.port(), "t");
            protocol::subscribe const other{"u"};
            co_await c.send(other, 2);
            auto const also = co_await c.receive_as<protocol::subscribed>();
            co_await c.close();  // c's session ends: its two subscriptions go
        }
        protocol::unsubscribe const leave{"t"};
        co_await b.send(leave, 3);
        auto const left = co_await b.receive_as<protocol::unsubscribed>();

        // The hub drops c's subscriptions when its session ends, which the close above does not
        // wait for: wait until only a's subscription is left.
        co_await eventually([&] { return server.metrics().subscriptions.load() == 1; }, "c's session has ended");
        auto publisher = co_await ws_client::connect(json(server.port()));
        auto const delivered = co_await publish(publisher, "t", "only a", 1);
        EXPECT_EQ(delivered, 1u);
        EXPECT_EQ(co_await next_text(a), "only a");
        protocol::publish const to_u{"u", "nobody"};
        co_await publisher.send(to_u, 99);
        auto const none = co_await publisher.receive_as<protocol::published>();
        EXPECT_EQ(none.first.delivered, 0u);
        co_await a.close();
        co_await b.close();
        co_await publisher.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().subscriptions.load(), 0);
    EXPECT_EQ(server.metrics().topics.load(), 0);
}

TEST(topics, invalid_topics_and_the_subscription_limit_are_errors_and_the_connection_goes_on)
{
    auto options = test_options();
    options.max_subscriptions = 2;
    options.max_topic_length = 16;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto a = co_await ws_client::connect(json(server.port()));
        std::vector<std::string> const bad{"", "has space", "émoji", std::string(17, 'x'), "semi;colon"};
        std::uint64_t id = 1;
        for (auto const& topic : bad) {
            protocol::subscribe const s{topic};
            co_await a.send(s, id);
            auto const [error, error_id] = co_await a.receive_as<protocol::error>();
            EXPECT_EQ(error.code, "invalid_topic") << topic;
            EXPECT_EQ(error_id, id++);
        }
        std::vector<std::string> const good{"a.b/c:d-e_f", "second"};
        for (auto const& topic : good) {
            protocol::subscribe const s{topic};
            co_await a.send(s, id++);
            auto const ok = co_await a.receive_as<protocol::subscribed>();
            EXPECT_EQ(ok.first.topic, topic);
        }
        protocol::subscribe const third{"third"};
        co_await a.send(third, id);
        auto const [limit, limit_id] = co_await a.receive_as<protocol::error>();
        EXPECT_EQ(limit.code, "too_many_subscriptions");
        protocol::publish const bad_publish{"bad topic", "x"};
        co_await a.send(bad_publish, ++id);
        auto const [publish_error, publish_id] = co_await a.receive_as<protocol::error>();
        EXPECT_EQ(publish_error.code, "invalid_topic");
        protocol::echo const still{"alive"};
        co_await a.send(still, ++id);
        auto const echo = co_await a.receive_as<protocol::echo>();
        EXPECT_EQ(echo.first.text, "alive");
        co_await a.close();
    });
}

}  // namespace
}  // namespace coropush::testing
