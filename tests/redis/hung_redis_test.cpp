// A Redis that hangs instead of dying: redis-server stopped with SIGSTOP keeps its sockets open
// and answers nothing. The nodes must notice (heartbeat deadline), stay bounded while messages
// keep coming (unanswered bytes), not let the backlog reach other nodes when Redis resumes, and
// come back. Each wait is for an event or a metric, with a deadline.
#include "client/ws_client.hpp"
#include "redis/cluster.hpp"
#include "support/json_clients.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

// Timing and sizes small enough that each test takes about a second.
constexpr auto heartbeat = 50ms;
constexpr auto reply_timeout = 300ms;
constexpr std::size_t unanswered_bound = std::size_t{64} * 1024;
constexpr std::size_t message_bytes = 1024;
constexpr int burst = 3000;  // ~3 MiB: without the bound, all of it would wait for Redis

TEST(hung_redis, every_node_turns_unready_within_the_reply_timeout_and_recovers_when_redis_resumes)
{
    auto const quick_heartbeat = [](server_options& o, std::size_t) {
        o.backplane_heartbeat = heartbeat;
        o.backplane_reply_timeout = reply_timeout;
    };
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            auto& b = c[1];
            auto on_a = co_await subscriber(a.port(), "alerts");
            auto on_b = co_await subscriber(b.port(), "alerts");
            auto from_a = co_await ws_client::connect(json(a.port()));
            co_await eventually([&] { return channels(a) == 1 && channels(b) == 1; }, "both nodes subscribed");
            EXPECT_EQ(co_await publish(from_a, "alerts", "before", 1), 1u);
            EXPECT_EQ(co_await next_text(on_b), "before");
            EXPECT_EQ(co_await next_text(on_a), "before");

            co_await c.redis.pause();
            // Within a heartbeat and its reply timeout (plus slack for a loaded machine), every
            // link of both nodes has given up. A node reports down when its first link gives up;
            // its other connection may give up a few milliseconds later. Only then does the
            // subscriber drop its subscriptions (a given-up subscriber connection holds none;
            // Redis confirms no new ones while it hangs), and only then does the publisher refuse
            // a message: until then it still takes one, counted as dropped when it gives up. Each
            // link that gives up counts a reply timeout: two per node.
            auto const both_links_gave_up = [&](test_server& node) {
                return !up(node) && channels(node) == 0 && node.metrics().backplane_reply_timeouts.load() >= 2;
            };
            co_await eventually([&] { return both_links_gave_up(a) && both_links_gave_up(b); },
                                "both nodes see redis hung, and their subscriptions are dropped",
                                heartbeat + reply_timeout + 2s);
            EXPECT_EQ(co_await readyz(a.port()), 503u);
            EXPECT_EQ(co_await readyz(b.port()), 503u);

            // Local delivery goes on; what was meant for other nodes is dropped and counted.
            EXPECT_EQ(co_await publish(from_a, "alerts", "local only", 2), 1u);
            EXPECT_EQ(co_await next_text(on_a), "local only");
            co_await eventually([&] { return a.metrics().backplane_publish_drops.load() == 1; }, "the drop is counted");

            co_await c.redis.resume();
            co_await eventually([&] { return up(a) && up(b) && channels(a) == 1 && channels(b) == 1; },
                                "both nodes reconnect and re-subscribe");
            EXPECT_EQ(co_await readyz(a.port()), 200u);
            EXPECT_EQ(co_await readyz(b.port()), 200u);
            EXPECT_EQ(co_await publish(from_a, "alerts", "after", 3), 1u);
            EXPECT_EQ(co_await next_text(on_b), "after") << "nothing from the hang reached B";
            EXPECT_EQ(co_await next_text(on_a), "after");
            for (auto* client : {&on_a, &on_b, &from_a})
                co_await client->close();
        },
        true, quick_heartbeat);
}

TEST(hung_redis, publishing_into_it_stays_within_the_unanswered_bound_and_the_backlog_is_not_replayed)
{
    // A reply timeout longer than the hang: B's subscriber connection stays open through it, as
    // after any hang shorter than the timeout, so whatever Redis still holds from A when it
    // resumes would reach B's clients. The bound on unanswered bytes is what must stop A. (No
    // periodic heartbeat either: the gauge then shows A's publisher connection alone.)
    auto const settings = [](server_options& o, std::size_t) {
        o.backplane_heartbeat = 60s;
        o.backplane_reply_timeout = 60s;
        o.backplane_max_unanswered = unanswered_bound;
    };
    with_nodes(
        2,
        [](cluster& c) -> awaitable<void> {
            auto& a = c[0];
            auto& b = c[1];
            auto on_b = co_await subscriber(b.port(), "room");
            auto from_a = co_await ws_client::connect(json(a.port()));
            co_await eventually([&] { return channels(b) == 1; }, "B subscribed");
            EXPECT_EQ(co_await publish(from_a, "room", "before", 1), 0u);
            EXPECT_EQ(co_await next_text(on_b), "before");

            co_await c.redis.pause();
            std::string const filler(message_bytes, 'x');
            std::int64_t most_unanswered = 0;
            for (int i = 0; i < burst; ++i) {
                (void)co_await publish(from_a, "room", filler, 2 + static_cast<std::uint64_t>(i));
                most_unanswered = std::max(most_unanswered, a.metrics().backplane_unanswered_bytes.load());
            }
            co_await eventually(
                [&] {
                    return a.metrics().backplane_published.load() + a.metrics().backplane_publish_drops.load() ==
                           std::uint64_t{burst} + 1;
                },
                "A has forwarded or dropped every message");
            most_unanswered = std::max(most_unanswered, a.metrics().backplane_unanswered_bytes.load());
            EXPECT_LE(most_unanswered, static_cast<std::int64_t>(unanswered_bound))
                << "bytes awaiting Redis stay bounded";
            EXPECT_GE(a.metrics().backplane_overloads.load(), 1u) << "A gave up on its publisher connection";
            // A PUBLISH counts as published once Redis answers it, and a stopped Redis answered
            // none: every message of the burst is a drop, those the link refused and those it had
            // sent when it gave up alike.
            EXPECT_EQ(a.metrics().backplane_published.load(), 1u) << "only \"before\" was answered";
            EXPECT_EQ(a.metrics().backplane_publish_drops.load(), std::uint64_t{burst});
            EXPECT_FALSE(up(a));
            EXPECT_EQ(co_await readyz(a.port()), 503u);

            co_await c.redis.resume();
            co_await eventually([&] { return up(a); }, "A reconnects once redis answers");
            EXPECT_EQ(co_await readyz(a.port()), 200u);
            EXPECT_EQ(co_await publish(from_a, "room", "fresh", 9999), 0u);
            // B's client gets "fresh", with at most what Redis had already received from A before
            // it hung in front of it: never the backlog, and never enough to be closed for it.
            int stale = 0;
            for (;;) {
                auto const text = co_await next_text(on_b);
                if (text == "fresh")
                    break;
                ++stale;
            }
            // At most what A had sent and not had answered (each PUBLISH is a message and more).
            EXPECT_LE(static_cast<std::int64_t>(stale) * static_cast<std::int64_t>(message_bytes), most_unanswered);
            std::cout << "[ info     ] published " << burst << " into the hung redis: at most " << most_unanswered
                      << " bytes unanswered, " << stale << " messages reached the other node after it resumed\n";
            co_await on_b.close();
            co_await from_a.close();
        },
        true, settings);
}

}  // namespace
}  // namespace coropush::testing
