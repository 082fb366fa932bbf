// An application's own endpoint and route beside the built-in ones (server::add), and a handler
// that co_awaits before it answers (message_handler::await_before_next_read): CONTRIBUTING.md's
// recipe 3, followed.
#include "core/outbound.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include "client/ws_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using namespace std::chrono_literals;

// "slow:x" answers "x" after a wait that stands for a database query; "fast:x" answers "x" after
// none; "fail" throws in the middle of its work; anything else is answered at once, unchanged.
class lookup_handler final : public message_handler {
public:
    explicit lookup_handler(outbox& out)
        : out_(out)
    {
    }
    void on_text(std::string_view text) override
    {
        if (text.starts_with("slow:") || text.starts_with("fast:") || text == "fail")
            await_before_next_read(look_up(text));
        else
            out_.send(text_message(make_payload(std::string(text))));
    }
    void on_binary(std::string_view) override { out_.close(1003, "text only"); }

private:
    // `text` is the session's own buffer: it stays valid until this work ends.
    awaitable<void> look_up(std::string_view text)
    {
        boost::asio::steady_timer query(co_await boost::asio::this_coro::executor);
        query.expires_after(text.starts_with("slow:") ? 50ms : 0ms);
        co_await query.async_wait(boost::asio::use_awaitable);
        if (text == "fail")
            throw std::runtime_error("the lookup failed");
        out_.send(text_message(make_payload(std::string(text.substr(5)))));
    }

    outbox& out_;
};

void add_lookup(coropush::server& s)
{
    s.add(websocket_endpoint{"lookup", {"/lookup"}, "lookup.v1", 1024, true, [](outbox& out) {
                                 return std::make_unique<lookup_handler>(out);
                             }});
    s.add(http_route{
        "/hello/", 16,
        [](http_request request) -> awaitable<http_response> {
            http_response response{boost::beast::http::status::ok, request.version()};
            response.body() = "hello, " + std::string(request.target().substr(7));
            response.prepare_payload();
            co_return response;
        },
        [](boost::beast::http::status status, std::string_view code, std::string_view message, unsigned version) {
            http_response response{status, version};
            response.body() = std::string(code) + ": " + std::string(message);
            response.prepare_payload();
            return response;
        }});
}

awaitable<client::ws_client> open_lookup(std::uint16_t port)
{
    client::connect_options o;
    o.port = port;
    o.path = "/lookup";
    o.subprotocols = {"lookup.v1"};
    co_return co_await client::ws_client::connect(o);
}

TEST(custom_endpoint, answers_in_order_even_when_an_earlier_message_waits_longer)
{
    test_server server(test_options(), add_lookup);
    run_client([&]() -> awaitable<void> {
        auto c = co_await open_lookup(server.port());
        EXPECT_EQ(c.subprotocol(), "lookup.v1");
        // Sent together: the slow one's work is awaited before the next message is read, so its
        // answer comes first although the fast ones wait for nothing.
        co_await c.send_text("slow:first");
        co_await c.send_text("fast:second");
        co_await c.send_text("third");
        for (char const* expected : {"first", "second", "third"}) {
            auto const m = co_await c.receive();
            EXPECT_EQ(m.payload, expected);
        }
    });
}

TEST(custom_endpoint, work_that_throws_closes_its_session_with_1011_and_the_server_goes_on)
{
    test_server server(test_options(), add_lookup);
    run_client([&]() -> awaitable<void> {
        auto bystander = co_await open_lookup(server.port());
        auto c = co_await open_lookup(server.port());
        co_await c.send_text("fail");
        auto const end = co_await c.receive_close();
        EXPECT_EQ(end.close_code, 1011);
        EXPECT_EQ(end.close_reason, "internal error");

        co_await bystander.send_text("fast:still here");
        auto const answer = co_await bystander.receive();  // named first (GCC 12 and co_await temporaries)
        EXPECT_EQ(answer.payload, "still here");
        auto again = co_await open_lookup(server.port());
        co_await again.send_text("slow:new session");
        auto const later = co_await again.receive();
        EXPECT_EQ(later.payload, "new session");
    });
}

TEST(custom_endpoint, the_built_in_endpoints_stay_and_a_clash_is_refused)
{
    test_server server(test_options(), [](coropush::server& s) {
        add_lookup(s);
        EXPECT_THROW(s.add(websocket_endpoint{"again",
                                              {"/lookup"},
                                              "lookup.v1",
                                              1,
                                              false,
                                              [](outbox& out) { return std::make_unique<lookup_handler>(out); }}),
                     std::invalid_argument);
    });
    EXPECT_THROW(server.get().add(http_route{}), std::logic_error) << "after start()";
    run_client([&]() -> awaitable<void> {
        client::connect_options o;
        o.port = server.port();
        auto json = co_await client::ws_client::connect(o);
        EXPECT_EQ(json.subprotocol(), "coropush.v1");

        // The lookup endpoint speaks only its subprotocol: 400, where an unknown path is 404.
        o.path = "/lookup";
        o.subprotocols = {};
        try {
            co_await client::ws_client::connect(o);
            ADD_FAILURE() << "an upgrade offering no subprotocol of /lookup was accepted";
        } catch (client::handshake_rejected const& e) {
            EXPECT_EQ(e.status, 400u);
        }
        o.path = "/nowhere";
        try {
            co_await client::ws_client::connect(o);
            ADD_FAILURE() << "an upgrade to an unknown path was accepted";
        } catch (client::handshake_rejected const& e) {
            EXPECT_EQ(e.status, 404u);
        }
    });
}

TEST(custom_endpoint, an_http_route_answers_and_refuses_a_large_body_its_own_way)
{
    test_server server(test_options(), add_lookup);
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(server.port());
        co_await c.write("GET /hello/world HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const hello = co_await c.read_http();
        EXPECT_EQ(hello.status, 200u);
        EXPECT_EQ(hello.body, "hello, world");

        co_await c.write("POST /hello/big HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'x'));
        auto const big = co_await c.read_http();
        EXPECT_EQ(big.status, 413u);
        EXPECT_EQ(big.body, "too_large: the body is larger than 16 bytes");
    });
}

}  // namespace
}  // namespace coropush::testing
