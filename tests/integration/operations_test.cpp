// Operability: many clients over several io threads, Prometheus metrics that promtool accepts,
// and the admin endpoint.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

// One client's whole demo: hello, echoes, and the notice, which may arrive between any two echo
// replies (its delay runs while they are answered); the replies keep their request order.
awaitable<void> demo_client(std::uint16_t port, int n)
{
    auto client = co_await ws_client::connect(json(port));
    protocol::hello const hello{"client " + std::to_string(n)};
    co_await client.send(hello, 1);
    for (std::uint64_t i = 2; i < 12; ++i) {
        protocol::echo const echo{std::to_string(n) + "/" + std::to_string(i)};
        co_await client.send(echo, i);
    }
    auto const welcome = co_await client.receive_as<protocol::welcome>();
    EXPECT_EQ(welcome.second, 1u);
    std::uint64_t next_echo = 2;
    int notices = 0;
    while (next_echo < 12 || notices == 0) {
        auto const envelope = co_await client.receive_envelope();
        if (envelope.type == protocol::notice::type) {
            ++notices;
            continue;
        }
        auto const echo = protocol::data_as<protocol::echo>(envelope);
        require(std::holds_alternative<protocol::echo>(echo), "an echo or the notice");
        EXPECT_EQ(envelope.id, next_echo);
        EXPECT_EQ(std::get<protocol::echo>(echo).text, std::to_string(n) + "/" + std::to_string(next_echo));
        ++next_echo;
    }
    EXPECT_EQ(notices, 1);
    co_await client.close();
}

TEST(threads, many_concurrent_clients_over_four_io_threads_each_get_their_own_answers)
{
    test_server server(test_options(), 4);
    run_client([&]() -> awaitable<void> {
        auto executor = co_await boost::asio::this_coro::executor;
        constexpr int clients = 64;
        std::vector<decltype(boost::asio::co_spawn(executor, demo_client(0, 0), boost::asio::deferred))> runs;
        runs.reserve(clients);
        for (int n = 0; n < clients; ++n)
            runs.push_back(boost::asio::co_spawn(executor, demo_client(server.port(), n), boost::asio::deferred));
        auto [order, failures] = co_await boost::asio::experimental::make_parallel_group(std::move(runs))
                                     .async_wait(boost::asio::experimental::wait_for_all(), boost::asio::use_awaitable);
        for (auto const& failure : failures)
            if (failure)
                std::rethrow_exception(failure);
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_total.load(), 64u);
    EXPECT_EQ(server.metrics().websocket_sessions_open.load(), 0);
    EXPECT_EQ(server.metrics().messages_in.load(), 64u * 11u);
    EXPECT_EQ(server.metrics().messages_out.load(), 64u * 12u);
}

std::string fetch(std::uint16_t port, std::string target)
{
    std::string body;
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(port);
        co_await c.write("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const reply = co_await c.read_http();
        body = reply.body;
    });
    return body;
}

TEST(metrics, the_exposition_passes_promtool_check_metrics)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(json(server.port()));
        co_await client.send_text("not json");
        auto const error = co_await client.receive_as<protocol::error>();
        co_await client.close();
    });
    auto const text = fetch(server.port(), "/metrics");
    EXPECT_NE(text.find("coropush_error_envelopes_total{code=\"invalid_json\"} 1"), std::string::npos);
    EXPECT_NE(text.find("coropush_close_codes_sent_total{code=\"1001\"} 0"), std::string::npos);

    std::string const promtool = std::system("command -v promtool >/dev/null 2>&1") == 0 ? "promtool" : "";
    ASSERT_FALSE(promtool.empty()) << "promtool is missing: run scripts/install-deps.sh test (package prometheus)";
    auto const file = std::filesystem::temp_directory_path() / ("coropush-metrics-" + std::to_string(::getpid()));
    std::ofstream(file) << text;
    auto const report = file.string() + ".out";
    int const status = std::system(("promtool check metrics < " + file.string() + " > " + report + " 2>&1").c_str());
    std::ifstream in(report);
    std::string const complaints((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(status, 0) << complaints;
    EXPECT_EQ(complaints, "") << "promtool has lint complaints";
    std::filesystem::remove(file);
    std::filesystem::remove(report);
}

http_reply admin_request(std::uint16_t port, std::string request)
{
    http_reply reply;
    run_client([&]() -> awaitable<void> {
        auto c = co_await raw_connection::connect(port);
        co_await c.write(request);
        reply = co_await c.read_http();
    });
    return reply;
}

TEST(admin, disconnect_needs_the_token_and_a_post)
{
    auto options = test_options();
    options.admin_token = "s3cret";
    test_server server(options);
    std::string const path = "/admin/disconnect HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n";
    EXPECT_EQ(admin_request(server.port(), "POST " + path + "\r\n").status, 401u);
    EXPECT_EQ(admin_request(server.port(), "POST " + path + "Authorization: Bearer wrong!\r\n\r\n").status, 401u);
    EXPECT_EQ(admin_request(server.port(),
                            "POST " + path + "Authorization: Bearer wrong!\r\nAuthorization: Bearer s3cret\r\n\r\n")
                  .status,
              400u)
        << "two tokens, one of them right: which one a proxy passes on is anyone's guess";
    auto const get = admin_request(server.port(), "GET " + path + "Authorization: Bearer s3cret\r\n\r\n");
    EXPECT_EQ(get.status, 405u);
    EXPECT_EQ(get.headers.at("allow"), "POST") << "the one method this endpoint takes";
    auto const ok = admin_request(server.port(), "POST " + path + "Authorization: Bearer s3cret\r\n\r\n");
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(ok.body, "closed 0 WebSocket session(s)\n");
}

TEST(admin, the_bearer_scheme_is_case_insensitive)
{
    auto options = test_options();
    options.admin_token = "s3cret";
    test_server server(options);
    for (std::string const scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
        auto const reply =
            admin_request(server.port(), "POST /admin/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: " + scheme +
                                             " s3cret\r\nContent-Length: 0\r\n\r\n");
        EXPECT_EQ(reply.status, 200u) << scheme;
    }
    EXPECT_EQ(admin_request(server.port(), "POST /admin/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                                           "s3cret\r\nContent-Length: 0\r\n\r\n")
                  .status,
              401u)
        << "another scheme";
    EXPECT_EQ(admin_request(server.port(), "POST /admin/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                           "Bearers3cret\r\nContent-Length: 0\r\n\r\n")
                  .status,
              401u)
        << "no space after the scheme";
}

TEST(admin, how_is_a_query_parameter_and_an_unknown_one_is_refused)
{
    auto options = test_options();
    options.admin_token = "t";
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto request = [&](std::string query) -> awaitable<http_reply> {
            auto c = co_await raw_connection::connect(server.port());
            co_await c.write("POST /admin/disconnect" + query +
                             " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 0\r\n\r\n");
            co_return co_await c.read_http();
        };
        auto a = co_await ws_client::connect(json(server.port()));
        // Refused, and nobody is disconnected: the client still gets its echo after these.
        for (auto const* query : {"?how=dropped", "?how=", "?how", "?how=drop&how=close", "?how=%zz"}) {
            auto const refused = co_await request(query);
            EXPECT_EQ(refused.status, 400u) << query;
            EXPECT_EQ(refused.body, "expects ?how=close (the default) or ?how=drop, at most once\n") << query;
        }
        protocol::echo const still_here{"still here"};  // named: GCC 12 and aggregate temporaries in co_await
        co_await a.send(still_here, 1);
        auto const echo = co_await a.receive_as<protocol::echo>();
        EXPECT_EQ(echo.first.text, "still here");

        // "how=drop" inside another parameter is not the parameter `how`: this closes (1012).
        auto const closed = co_await request("?x=nohow=dropped");
        EXPECT_EQ(closed.status, 200u);
        EXPECT_EQ(closed.body, "closed 1 WebSocket session(s)\n");
        auto const a_end = co_await a.receive_close();
        EXPECT_EQ(a_end.close_code, 1012) << "closed, not dropped";
        EXPECT_EQ(server.metrics().closes_sent(1012), 1u) << "counted under its own code";
        EXPECT_EQ(server.metrics().closes_sent(0), 0u) << "not among the other codes";

        auto b = co_await ws_client::connect(json(server.port()));
        auto const dropped = co_await request("?x=1&how=%64rop");  // a percent-encoded value is decoded
        EXPECT_EQ(dropped.body, "dropped 1 WebSocket session(s)\n");
        auto const b_end = co_await b.receive();
        EXPECT_EQ(b_end.close_code, 1006);
    });
}

TEST(admin, without_a_token_the_endpoint_does_not_exist)
{
    test_server server;
    EXPECT_EQ(admin_request(server.port(), "POST /admin/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                           "\r\nContent-Length: 0\r\n\r\n")
                  .status,
              404u);
}

TEST(admin, disconnect_closes_with_1012_or_drops_every_session)
{
    auto options = test_options();
    options.admin_token = "t";
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto a = co_await ws_client::connect(json(server.port()));
        auto request = [&](std::string how) -> awaitable<http_reply> {
            auto c = co_await raw_connection::connect(server.port());
            co_await c.write("POST /admin/disconnect?how=" + how +
                             " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 0\r\n\r\n");
            co_return co_await c.read_http();
        };
        auto const closed = co_await request("close");
        EXPECT_EQ(closed.body, "closed 1 WebSocket session(s)\n");
        auto const a_end = co_await a.receive_close();
        EXPECT_EQ(a_end.close_code, 1012);

        auto b = co_await ws_client::connect(json(server.port()));
        auto const dropped = co_await request("drop");
        EXPECT_EQ(dropped.status, 200u);
        auto const b_end = co_await b.receive();
        EXPECT_TRUE(b_end.closed());
        EXPECT_EQ(b_end.close_code, 1006) << "dropped: no close frame";
    });
}

}  // namespace
}  // namespace coropush::testing
