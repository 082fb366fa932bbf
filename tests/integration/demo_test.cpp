// The original demo, end to end over loopback: both dialects, exact texts, order and timing.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using client::incoming;
using client::ws_client;
using clock = std::chrono::steady_clock;

// The demo's timing, both bounds: the welcome answers at once, the notice comes at the push delay
// (not before, and not much after: the tolerance covers a loaded machine and the sanitizers).
constexpr auto push_delay = 300ms;
constexpr auto tolerance = 150ms;

void expect_immediate(clock::duration waited, char const* what)
{
    EXPECT_LT(waited, tolerance) << what << " came after "
                                 << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms";
}

void expect_at_push_delay(clock::duration waited)
{
    auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
    EXPECT_GE(waited, push_delay) << "the notice came early, after " << ms << " ms";
    EXPECT_LT(waited, push_delay + tolerance) << "the notice came late, after " << ms << " ms";
}

TEST(demo, plain_client_gets_welcome_then_notice_after_delay)
{
    auto options = test_options();
    options.push_delay = push_delay;
    test_server server(options);
    run_client([&]() -> boost::asio::awaitable<void> {
        auto client = co_await ws_client::connect(plain(server.port()));
        EXPECT_EQ(client.subprotocol(), "");
        auto const sent = clock::now();
        co_await client.send_text("亲爱的服务器！我连上你啦！");

        auto welcome = co_await client.receive();
        expect_immediate(clock::now() - sent, "the welcome");
        EXPECT_EQ(welcome.what, incoming::kind::text);
        EXPECT_EQ(welcome.payload, "欢迎你朋友！");

        auto notice = co_await client.receive();
        expect_at_push_delay(clock::now() - sent);
        EXPECT_EQ(notice.what, incoming::kind::text);
        EXPECT_EQ(notice.payload, "朋友，既然来就多看看！");
        co_await client.close();
    });
}

TEST(demo, plain_client_gets_one_welcome_and_one_notice_per_message)
{
    test_server server;
    run_client([&]() -> boost::asio::awaitable<void> {
        auto client = co_await ws_client::connect(plain(server.port()));
        co_await client.send_text("one");
        co_await client.send_text("two");
        // Welcomes are immediate; both notices follow after the delay.
        std::string const welcome = "欢迎你朋友！";
        std::string const notice = "朋友，既然来就多看看！";
        for (auto const& expected : {welcome, welcome, notice, notice}) {
            auto in = co_await client.receive();
            EXPECT_EQ(in.payload, expected);
        }
        co_await client.close();
    });
}

TEST(demo, configured_texts_and_delay_are_used)
{
    auto options = test_options();
    options.welcome_text = "hello there";
    options.notice_text = "still here";
    options.push_delay = 10ms;
    test_server server(options);
    run_client([&]() -> boost::asio::awaitable<void> {
        auto client = co_await ws_client::connect(plain(server.port()));
        co_await client.send_text("hi");
        auto const first = co_await client.receive();
        auto const second = co_await client.receive();
        EXPECT_EQ(first.payload, "hello there");
        EXPECT_EQ(second.payload, "still here");
        co_await client.close();
    });
}

TEST(demo, json_client_gets_welcome_with_same_id_then_notice_after_delay)
{
    auto options = test_options();
    options.push_delay = push_delay;
    test_server server(options);
    run_client([&]() -> boost::asio::awaitable<void> {
        auto client = co_await ws_client::connect(json(server.port()));
        EXPECT_EQ(client.subprotocol(), "coropush.v1");
        auto const sent = clock::now();
        // Messages are named before a co_await that uses them: GCC 12 destroys an aggregate
        // temporary inside a co_await expression twice (see CONTRIBUTING.md, compiler pitfalls).
        protocol::hello const hello{"亲爱的服务器！我连上你啦！"};
        co_await client.send(hello, 42);

        auto [welcome, welcome_id] = co_await client.receive_as<protocol::welcome>();
        expect_immediate(clock::now() - sent, "the welcome");
        EXPECT_EQ(welcome.text, "欢迎你朋友！");
        EXPECT_EQ(welcome_id, 42u);

        auto [notice, notice_id] = co_await client.receive_as<protocol::notice>();
        expect_at_push_delay(clock::now() - sent);
        EXPECT_EQ(notice.text, "朋友，既然来就多看看！");
        EXPECT_FALSE(notice_id.has_value()) << "server pushes carry no id";
        co_await client.close();
    });
}

TEST(demo, json_echo_replies_carry_the_request_ids)
{
    test_server server;
    run_client([&]() -> boost::asio::awaitable<void> {
        auto client = co_await ws_client::connect(json(server.port()));
        for (std::uint64_t id : {1ull, 7ull, 18446744073709551615ull}) {
            protocol::echo const echo{"text " + std::to_string(id)};
            co_await client.send(echo, id);
        }
        protocol::echo const no_id{"no id"};
        co_await client.send(no_id);
        for (std::uint64_t id : {1ull, 7ull, 18446744073709551615ull}) {
            auto [echo, echo_id] = co_await client.receive_as<protocol::echo>();
            EXPECT_EQ(echo.text, "text " + std::to_string(id));
            EXPECT_EQ(echo_id, id);
        }
        auto [echo, echo_id] = co_await client.receive_as<protocol::echo>();
        EXPECT_EQ(echo.text, "no id");
        EXPECT_FALSE(echo_id.has_value());
        co_await client.close();
    });
}

TEST(demo, both_dialects_work_on_the_ws_path_too)
{
    test_server server;
    run_client([&]() -> boost::asio::awaitable<void> {
        auto a = co_await ws_client::connect(plain(server.port(), "/ws"));
        auto b = co_await ws_client::connect(json(server.port(), "/ws"));
        co_await a.send_text("x");
        protocol::echo const y{"y"};
        co_await b.send(y, 1);
        auto const welcome = co_await a.receive();
        auto const [echo, id] = co_await b.receive_as<protocol::echo>();
        EXPECT_EQ(welcome.payload, "欢迎你朋友！");
        EXPECT_EQ(echo.text, "y");
        co_await a.close();
        co_await b.close();
    });
}

}  // namespace
}  // namespace coropush::testing
