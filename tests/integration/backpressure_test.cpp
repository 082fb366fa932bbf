// Slow, silent and flooding clients: the outbound queue's policy decides their fate, the server's
// memory stays bounded, and everyone else keeps being served.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

server_options small_queues(overflow_policy policy)
{
    auto o = test_options();
    o.max_queue_messages = 32;
    o.max_queue_bytes = std::size_t{64} * 1024;
    o.on_overflow = policy;
    o.close_timeout = 200ms;  // a client that does not read cannot take our close frame either
    return o;
}

// A JSON-dialect client on a raw socket that subscribes to `topic` and then stops reading, with
// a small receive buffer so that the server's writes back up quickly.
awaitable<raw_connection> stalled_subscriber(std::uint16_t port, std::string const& topic)
{
    auto c = co_await raw_connection::connect(port, 4096);
    auto const reply = co_await c.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
    require(reply.status == 101, "upgrade");
    co_await c.write(raw_connection::frame(1, R"({"type":"subscribe","id":1,"data":{"topic":")" + topic + R"("}})"));
    auto const subscribed = co_await c.read_frame();
    require(subscribed.payload.find("subscribed") != std::string::npos, "subscribed");
    co_return c;
}

TEST(backpressure, a_subscriber_that_stops_reading_is_closed_as_a_slow_consumer_with_memory_bounded)
{
    auto options = small_queues(overflow_policy::close);
    test_server server(options);
    std::int64_t most_queued = 0;
    std::size_t publishes = 0;
    run_client([&]() -> awaitable<void> {
        auto slow = co_await stalled_subscriber(server.port(), "feed");
        auto publisher = co_await ws_client::connect(json(server.port()));
        protocol::publish const message{"feed", std::string(1024, 'x')};
        // Publish until the slow subscriber is gone: `delivered` drops to 0 once the server has
        // closed it (the event we wait for), however many publishes that takes.
        for (;;) {
            co_await publisher.send(message, ++publishes);
            auto const [published, id] = co_await publisher.receive_as<protocol::published>();
            most_queued = std::max(most_queued, server.metrics().queued_bytes.load());
            if (published.delivered == 0)
                break;
            require(publishes < 100000, "the slow subscriber was never closed");
        }
        co_await publisher.close();
    });
    server.shutdown_and_wait();
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 1u);
    // (Its 1008 close frame could not be sent: a client that reads nothing cannot take it, so
    // the server dropped the connection at the close timeout. A client that reads slowly gets it:
    // see the next test.)
    // One connection's queue never held more than its byte limit (plus the frame being written).
    EXPECT_LE(most_queued, static_cast<std::int64_t>(options.max_queue_bytes + 2048));
    EXPECT_EQ(server.metrics().queued_bytes.load(), 0);
    EXPECT_GT(publishes, options.max_queue_messages) << "the queue filled before the close";
}

// A slow consumer that does read, only too slowly, is told why it is closed: what it had already
// been sent arrives, then the close frame with 1008 and the policy's reason.
TEST(backpressure, a_slow_subscriber_that_reads_later_gets_close_1008_slow_consumer)
{
    auto options = small_queues(overflow_policy::close);
    options.close_timeout = 10s;  // time enough to read what was in flight, then the close frame
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto slow = co_await stalled_subscriber(server.port(), "feed");
        auto publisher = co_await ws_client::connect(json(server.port()));
        for (std::uint64_t id = 1;; ++id) {
            auto const delivered = co_await publish(publisher, "feed", std::string(1024, 'x'), id);
            if (delivered == 0)
                break;  // the server has decided to close the slow subscriber
            require(id < 100000, "the slow subscriber was never closed");
        }
        ws_frame frame;
        do
            frame = co_await slow.read_frame();
        while (frame.opcode == 1);
        EXPECT_EQ(frame.opcode, 8);
        EXPECT_EQ(frame.close_code(), 1008);
        EXPECT_EQ(frame.payload.substr(2), "slow consumer: outbound queue full");
        co_await publisher.close();
    });
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 1u);
}

TEST(backpressure, with_the_drop_policy_the_slow_subscriber_loses_messages_but_stays_connected)
{
    test_server server(small_queues(overflow_policy::drop_newest));
    run_client([&]() -> awaitable<void> {
        auto slow = co_await stalled_subscriber(server.port(), "feed");
        auto publisher = co_await ws_client::connect(json(server.port()));
        protocol::publish const message{"feed", std::string(1024, 'y')};
        std::uint64_t id = 0;
        while (server.metrics().queue_drops.load() == 0) {
            co_await publisher.send(message, ++id);
            auto const [published, reply_id] = co_await publisher.receive_as<protocol::published>();
            EXPECT_EQ(published.delivered, 1u) << "still subscribed, still connected";
            require(id < 100000, "nothing was ever dropped");
        }
        // The slow client catches up: it reads what was kept, and the connection still works.
        std::size_t received = 0;
        for (;;) {
            auto const frame = co_await slow.read_frame();
            require(frame.opcode == 1, "a text message");
            ++received;
            if (received + server.metrics().queue_drops.load() >= id)
                break;
        }
        co_await slow.write(raw_connection::frame(1, R"({"type":"echo","id":7,"data":{"text":"alive"}})"));
        auto const echo = co_await slow.read_frame();
        EXPECT_EQ(echo.payload, R"({"type":"echo","id":7,"data":{"text":"alive"}})");
        co_await publisher.close();
    });
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 0u);
}

TEST(backpressure, a_client_that_floods_requests_without_reading_is_closed_and_others_are_served)
{
    test_server server(small_queues(overflow_policy::close));
    run_client([&]() -> awaitable<void> {
        auto bystander = co_await ws_client::connect(json(server.port()));
        auto flooder = co_await raw_connection::connect(server.port(), 4096);
        auto const reply = co_await flooder.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
        require(reply.status == 101, "upgrade");
        std::string const request =
            raw_connection::frame(1, R"({"type":"echo","id":1,"data":{"text":")" + std::string(2000, 'z') + "\"}}");
        // Write requests until the server gives up on this client (our write then fails).
        std::size_t sent = 0;
        try {
            while (server.metrics().slow_consumer_closes.load() == 0) {
                co_await flooder.write(request);
                require(++sent < 100000, "never closed");
            }
        } catch (boost::system::system_error const&) {
            // connection reset: the server dropped us, as it should
        }
        protocol::echo const hello{"served"};
        co_await bystander.send(hello, 1);
        auto const [echo, id] = co_await bystander.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "served");
        co_await bystander.close();
    });
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 1u);
}

}  // namespace
}  // namespace coropush::testing
