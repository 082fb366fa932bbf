// The Redis backplane against a real redis-server: two coropush nodes in this process, clients on
// each, and Redis started, killed and restarted by the test. Each test awaits what the nodes
// report (their backplane metrics) rather than sleeping; every wait is bounded.
#include "client/ws_client.hpp"
#include "protocol/close_codes.hpp"
#include "redis/cluster.hpp"
#include "support/auth_test_tokens.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

TEST(redis_backplane, a_message_published_on_one_node_reaches_every_subscriber_on_every_node_once_in_order)
{
    with_nodes(2, [](cluster& c) -> awaitable<void> {
        auto& a = c[0];
        auto& b = c[1];
        auto on_a = co_await subscriber(a.port(), "room");
        auto on_b = co_await subscriber(b.port(), "room");
        auto publisher = co_await ws_client::connect(json(b.port()));
        co_await eventually([&] { return channels(a) == 1 && channels(b) == 1; },
                            "both nodes are subscribed to the room's channel");
        EXPECT_EQ(c.redis.number_of_subscribers("test:topic:room"), 2);

        constexpr int count = 50;
        for (int i = 0; i < count; ++i) {
            auto const delivered =
                co_await publish(publisher, "room", "m" + std::to_string(i), 100u + static_cast<unsigned>(i));
            EXPECT_EQ(delivered, 1u) << "published.delivered counts the publishing node's subscribers";
        }
        for (auto* client : {&on_a, &on_b})
            for (int i = 0; i < count; ++i)
                EXPECT_EQ(co_await next_text(*client), "m" + std::to_string(i));
        // A sentinel from the other node: Redis sends it to B after everything B published, so any
        // duplicate of B's own messages would reach B's subscriber before it.
        auto a_publisher = co_await ws_client::connect(json(a.port()));
        EXPECT_EQ(co_await publish(a_publisher, "room", "end", 1), 1u);
        EXPECT_EQ(co_await next_text(on_a), "end");
        EXPECT_EQ(co_await next_text(on_b), "end");

        EXPECT_EQ(a.metrics().backplane_received.load(), std::uint64_t{count}) << "A heard each of B's once";
        EXPECT_EQ(b.metrics().backplane_received.load(), 1u) << "B skipped its own messages";
        co_await eventually([&] { return b.metrics().backplane_published.load() == std::uint64_t{count}; },
                            "B counts each PUBLISH once Redis answers it");
        EXPECT_EQ(a.metrics().backplane_publish_drops.load() + b.metrics().backplane_publish_drops.load(), 0u);
        for (auto* client : {&on_a, &on_b, &publisher, &a_publisher})
            co_await client->close();
    });
}

TEST(redis_backplane, a_node_holds_a_redis_subscription_only_while_it_has_local_subscribers)
{
    with_nodes(1, [](cluster& c) -> awaitable<void> {
        auto& a = c[0];
        EXPECT_EQ(c.redis.number_of_subscribers("test:topic:news"), 0);
        {
            auto first = co_await subscriber(a.port(), "news");
            auto second = co_await subscriber(a.port(), "news");
            co_await eventually([&] { return channels(a) == 1; }, "the node subscribed");
            EXPECT_EQ(c.redis.number_of_subscribers("test:topic:news"), 1) << "one Redis subscription per node";

            protocol::unsubscribe const leave{"news"};
            co_await first.send(leave, 2);
            (void)co_await first.receive_as<protocol::unsubscribed>();
            co_await first.close();
            EXPECT_EQ(c.redis.number_of_subscribers("test:topic:news"), 1) << "the second subscriber is still here";
            // `second` is dropped without a close handshake: disconnect clean-up has to remove it.
        }
        co_await eventually([&] { return channels(a) == 0; }, "the node unsubscribed");
        EXPECT_EQ(c.redis.number_of_subscribers("test:topic:news"), 0);

        // Quick subscribe / unsubscribe / subscribe: the node ends up subscribed, exactly once.
        auto again = co_await subscriber(a.port(), "news");
        protocol::unsubscribe const leave{"news"};
        co_await again.send(leave, 3);
        (void)co_await again.receive_as<protocol::unsubscribed>();
        protocol::subscribe const join{"news"};
        co_await again.send(join, 4);
        (void)co_await again.receive_as<protocol::subscribed>();
        // A marker topic, subscribed last: the node applies changes in order, one connection
        // answers in order, so once both channels are confirmed the toggling has settled.
        protocol::subscribe const marker{"marker"};
        co_await again.send(marker, 5);
        (void)co_await again.receive_as<protocol::subscribed>();
        co_await eventually([&] { return channels(a) == 2; }, "the node settled on news and marker");
        EXPECT_EQ(c.redis.number_of_subscribers("test:topic:news"), 1);
        auto other = co_await ws_client::connect(json(a.port()));
        EXPECT_EQ(co_await publish(other, "news", "still here", 6), 1u);
        EXPECT_EQ(co_await next_text(again), "still here");
        co_await again.close();
        co_await other.close();
    });
}

TEST(redis_backplane, a_redis_restart_keeps_local_delivery_and_cross_node_delivery_resumes)
{
    with_nodes(2, [](cluster& c) -> awaitable<void> {
        auto& a = c[0];
        auto& b = c[1];
        auto on_a = co_await subscriber(a.port(), "alerts");
        auto on_b = co_await subscriber(b.port(), "alerts");
        auto from_a = co_await ws_client::connect(json(a.port()));
        auto from_b = co_await ws_client::connect(json(b.port()));
        co_await eventually([&] { return channels(a) == 1 && channels(b) == 1; }, "both nodes subscribed");
        EXPECT_EQ(co_await publish(from_b, "alerts", "before", 1), 1u);
        EXPECT_EQ(co_await next_text(on_a), "before");
        EXPECT_EQ(co_await next_text(on_b), "before");

        co_await c.redis.kill();
        co_await eventually([&] { return !up(a) && !up(b); }, "both nodes see redis gone");
        EXPECT_EQ(co_await readyz(a.port()), 503u) << "not ready without the backplane";
        EXPECT_EQ(channels(a), 0);
        // Local delivery goes on; what was meant for other nodes is dropped and counted.
        EXPECT_EQ(co_await publish(from_a, "alerts", "local only", 2), 1u);
        EXPECT_EQ(co_await next_text(on_a), "local only");
        co_await eventually([&] { return a.metrics().backplane_publish_drops.load() == 1; }, "the drop is counted");

        co_await c.redis.start();  // same port, empty: the nodes must subscribe again
        co_await eventually([&] { return up(a) && up(b) && channels(a) == 1 && channels(b) == 1; },
                            "both nodes reconnect and re-subscribe");
        EXPECT_GE(a.metrics().backplane_reconnects.load(), 2u) << "both of A's connections came back";
        EXPECT_EQ(co_await readyz(a.port()), 200u);
        EXPECT_EQ(co_await publish(from_b, "alerts", "after", 3), 1u);
        EXPECT_EQ(co_await next_text(on_a), "after") << "B's message reaches A again, and nothing else came";
        EXPECT_EQ(co_await next_text(on_b), "after");
        for (auto* client : {&on_a, &on_b, &from_a, &from_b})
            co_await client->close();
    });
}

TEST(redis_backplane, a_node_started_while_redis_is_down_serves_locally_then_joins)
{
    with_nodes(
        1,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            EXPECT_FALSE(up(a));
            EXPECT_EQ(co_await readyz(a.port()), 503u);
            auto local = co_await subscriber(a.port(), "t");
            auto other = co_await ws_client::connect(json(a.port()));
            EXPECT_EQ(co_await publish(other, "t", "works without redis", 1), 1u);
            EXPECT_EQ(co_await next_text(local), "works without redis");

            co_await c.redis.start();
            co_await eventually([&] { return up(a) && channels(a) == 1; }, "the node joins once redis is up");
            EXPECT_EQ(co_await readyz(a.port()), 200u);
            EXPECT_EQ(c.redis.number_of_subscribers("test:topic:t"), 1);
            co_await local.close();
            co_await other.close();
        },
        false);
}

TEST(redis_backplane, jobs_stay_on_their_node_and_resuming_elsewhere_is_a_clear_error)
{
    with_nodes(2, [](cluster& c) -> awaitable<void> {
        auto on_a = co_await ws_client::connect(json(c[0].port()));
        protocol::job_start const request{"sample", 3, 1, "test", std::nullopt};
        co_await on_a.send(request, 1);
        auto const [started, id] = co_await on_a.receive_as<protocol::job_started>();
        co_await on_a.close();

        // The documented limit (docs/scaling.md): a job lives on the node that runs it.
        auto on_b = co_await ws_client::connect(json(c[1].port()));
        protocol::job_resume const resume{started.job, 0};
        co_await on_b.send(resume, 2);
        auto const [error, error_id] = co_await on_b.receive_as<protocol::error>();
        EXPECT_EQ(error.code, "unknown_job");
        EXPECT_EQ(error_id, 2u);
        co_await on_b.close();
    });
}

// Every node takes tokens signed with this secret, and has the server API under this key.
constexpr char cluster_secret[] = "the redis tests' HS256 secret, over 32 bytes";
constexpr char cluster_api_key[] = "api-key-for-the-redis-tests";

void with_auth_and_api(server_options& options, std::size_t)
{
    options.auth = auth::auth_mode::required;
    options.auth_key = cluster_secret;
    options.api_key = cluster_api_key;
}

// A token for `user`, valid until 2100.
std::string token_of(std::string const& user)
{
    return auth::test_tokens::sign("HS256", cluster_secret, R"({"sub":")" + user + R"(","exp":4102444800})");
}

TEST(redis_backplane, the_api_disconnects_a_user_on_every_node_and_counts_the_sessions_of_its_own)
{
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            auto& b = c[1];
            // Every node is up, which includes its subscription to the control channel: a
            // request published now reaches both.
            auto alice_on_a = co_await signed_in(a.port(), token_of("alice"));
            auto alice_on_b = co_await signed_in(b.port(), token_of("alice"));
            auto other_alice_on_b = co_await signed_in(b.port(), token_of("alice"));
            auto bob_on_b = co_await signed_in(b.port(), token_of("bob"));

            auto backend = co_await raw_connection::connect(a.port());
            std::string const body = R"({"user":"alice"})";
            co_await backend.write(
                "POST /api/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(cluster_api_key) +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                body);
            auto const reply = co_await backend.read_http();
            EXPECT_EQ(reply.status, 200u);
            EXPECT_EQ(reply.body, R"({"disconnected":1})") << "the answer counts the sessions on node A";

            for (auto* alice : {&alice_on_a, &alice_on_b, &other_alice_on_b}) {
                auto const end = co_await alice->receive_close();
                EXPECT_EQ(end.close_code, protocol::close_codes::disconnected);
                EXPECT_EQ(end.close_reason, "disconnected by the application");
            }
            co_await still_open(bob_on_b, 2);
            co_await bob_on_b.close();
        },
        true, with_auth_and_api);
}

TEST(redis_backplane, a_malformed_backplane_url_is_refused)
{
    auto options = node_options("redis://");
    EXPECT_THROW(test_server{options}, std::invalid_argument);
}

}  // namespace
}  // namespace coropush::testing
