// The server API over real sockets: a backend's POST reaches WebSocket subscribers, every error
// status comes back as documented, and the HTTP details (body limit, 100 Continue, keep-alive).
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
using client::ws_client;

constexpr char api_key[] = "an-api-key-for-the-integration-tests";

server_options api_options()
{
    auto o = test_options();
    o.api_key = api_key;
    return o;
}

// A POST to the API with the key, a JSON body and `extra` header lines.
std::string api_post(std::string const& target, std::string const& body, std::string const& extra = {})
{
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api_key +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
           "\r\n" + body;
}

std::string error_code_of(http_reply const& reply)
{
    return std::string(boost::json::parse(reply.body).at("error").at("code").as_string());
}

TEST(api, a_backend_publish_reaches_websocket_subscribers_with_its_data)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto a = co_await subscriber(server.port(), "orders/42");
        auto b = co_await subscriber(server.port(), "orders/42");
        auto backend = co_await raw_connection::connect(server.port());
        co_await backend.write(api_post("/api/publish", R"({"topic":"orders/42","data":{"state":"shipped"}})"));
        auto const reply = co_await backend.read_http();
        EXPECT_EQ(reply.status, 200u);
        EXPECT_EQ(reply.headers.at("content-type"), "application/json");
        EXPECT_EQ(boost::json::parse(reply.body), boost::json::parse(R"({"delivered":2})"));
        for (auto* c : {&a, &b}) {
            auto const [message, id] = co_await c->receive_as<protocol::message>();
            EXPECT_EQ(message.topic, "orders/42");
            require(message.data.has_value(), "data");
            EXPECT_EQ(*message.data, boost::json::parse(R"({"state":"shipped"})"));
            EXPECT_FALSE(message.text.has_value());
        }

        // A batch, on the same connection (keep-alive): each message in order, each counted.
        co_await backend.write(api_post(
            "/api/publish",
            R"({"messages":[{"topic":"orders/42","text":"one"},{"topic":"nobody","text":"x"},{"topic":"orders/42","text":"two"}]})"));
        auto const batch = co_await backend.read_http();
        EXPECT_EQ(batch.status, 200u);
        EXPECT_EQ(boost::json::parse(batch.body), boost::json::parse(R"({"delivered":[2,0,2]})"));
        EXPECT_EQ(co_await next_text(a), "one");
        EXPECT_EQ(co_await next_text(a), "two");
        EXPECT_EQ(co_await next_text(b), "one");
        EXPECT_EQ(co_await next_text(b), "two");
        co_await a.close();
        co_await b.close();
    });
}

TEST(api, every_error_has_its_status_and_a_json_body)
{
    auto options = api_options();
    options.api_max_body_bytes = 1024;
    test_server server(options);
    struct error_case {
        std::string name;
        std::string request;
        unsigned status;
        std::string code;
    };
    std::string const body = R"({"topic":"t","text":"x"})";
    std::vector<error_case> const cases{
        {"no key",
         "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body,
         401, "unauthorized"},
        {"wrong key",
         "POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body,
         401, "unauthorized"},
        {"bad JSON", api_post("/api/publish", "{\"topic\":"), 400, "bad_json"},
        {"bad fields", api_post("/api/publish", R"({"topic":"t"})"), 400, "bad_request"},
        {"unknown endpoint", api_post("/api/nothing", body), 404, "not_found"},
        {"GET", "GET /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) + "\r\n\r\n",
         405, "method_not_allowed"},
        {"not JSON",
         "POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) +
             "\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx",
         415, "unsupported_media_type"},
        {"two Content-Types",
         "POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) +
             "\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body,
         400, "bad_request"},
        {"too large", api_post("/api/publish", R"({"topic":"t","text":")" + std::string(2000, 'x') + R"("})"), 413,
         "too_large"},
    };
    run_client([&]() -> awaitable<void> {
        for (auto const& c : cases) {
            auto connection = co_await raw_connection::connect(server.port());
            co_await connection.write(c.request);
            auto const reply = co_await connection.read_http();
            EXPECT_EQ(reply.status, c.status) << c.name;
            EXPECT_EQ(reply.headers.at("content-type"), "application/json") << c.name;
            EXPECT_EQ(error_code_of(reply), c.code) << c.name << ": " << reply.body;
        }
    });
    // Every answer is counted by its status.
    auto const& stats = server.metrics();
    EXPECT_EQ(stats.api_answers(401), 2u);
    EXPECT_EQ(stats.api_answers(400), 3u);
    for (unsigned status : {404u, 405u, 413u, 415u})
        EXPECT_EQ(stats.api_answers(status), 1u) << status;
    EXPECT_EQ(stats.api_answers(200), 0u);
}

TEST(api, without_a_key_the_api_is_not_there)
{
    test_server server;  // no api_key
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write(api_post("/api/publish", R"({"topic":"t","text":"x"})"));
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 404u);
        // Nor is its body limit: a request there is answered before its body is read.
        auto announced = api_post("/api/publish", std::string(100'000, ' '));
        announced.resize(announced.size() - 100'000);
        auto another = co_await raw_connection::connect(server.port());
        co_await another.write(announced);
        auto const large = co_await another.read_http();
        EXPECT_EQ(large.status, 404u);
        EXPECT_EQ(large.headers.at("connection"), "close");
    });
}

// Without the key, a request is refused as its header ends: the server answers before the body
// comes, and never holds it. The client that sends the body anyway has it read and dropped (its
// write completes), then sees the connection end.
TEST(api, a_request_without_the_key_is_answered_before_its_body_comes)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        std::size_t const body_size = 1'000'000;  // within --api-max-body (1 MiB)
        co_await connection.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  "Content-Length: " +
                                  std::to_string(body_size) + "\r\n\r\n");
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 401u);
        EXPECT_EQ(error_code_of(reply), "unauthorized");
        EXPECT_EQ(reply.headers.at("connection"), "close");
        co_await connection.write(std::string(body_size, ' '));
        EXPECT_TRUE(co_await connection.closed_by_server());
    });
    EXPECT_EQ(server.metrics().api_answers(401), 1u);
}

// A refusal of a request without a body keeps the connection, as any answer would.
TEST(api, a_refused_request_without_a_body_keeps_its_connection)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write("GET /api/jobs/j1 HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const refused = co_await connection.read_http();
        EXPECT_EQ(refused.status, 401u);
        EXPECT_EQ(refused.headers.count("connection"), 0u);
        co_await connection.write(api_post("/api/publish", R"({"topic":"t","text":"x"})"));
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 200u);
    });
}

// Two Authorization headers are refused: which one a proxy in front passes on is anyone's guess.
TEST(api, a_request_with_two_authorization_headers_gets_400)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write(
            api_post("/api/publish", R"({"topic":"t","text":"x"})", "Authorization: Bearer another-key\r\n"));
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 400u);
        EXPECT_EQ(error_code_of(reply), "bad_request");
    });
    EXPECT_EQ(server.metrics().api_answers(200), 0u);
}

TEST(api, a_client_that_expects_100_continue_gets_it_then_the_answer)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        std::string const body = R"({"topic":"t","text":"x"})";
        auto connection = co_await raw_connection::connect(server.port());
        auto const request = api_post("/api/publish", body, "Expect: 100-continue\r\n");
        co_await connection.write(request.substr(0, request.size() - body.size()));  // the header only
        auto const go_on = co_await connection.read_http();
        EXPECT_EQ(go_on.status, 100u);
        co_await connection.write(body);
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 200u);
        EXPECT_EQ(boost::json::parse(reply.body), boost::json::parse(R"({"delivered":0})"));
    });
}

TEST(api, a_body_announced_over_the_limit_gets_413_without_100_continue)
{
    auto options = api_options();
    options.api_max_body_bytes = 100;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                  std::string(api_key) +
                                  "\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n"
                                  "Expect: 100-continue\r\n\r\n");
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 413u);
        EXPECT_EQ(error_code_of(reply), "too_large");
    });
}

// Refused while the request is read, before the API sees it: still the API's JSON errors, and
// counted among its answers.
TEST(api, a_body_that_cannot_be_read_gets_a_json_400_and_refusals_count_as_answers)
{
    auto options = api_options();
    options.api_max_body_bytes = 100;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto broken = co_await raw_connection::connect(server.port());
        co_await broken.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) +
                              "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "zz\r\n{}\r\n0\r\n\r\n");  // "zz" is no chunk size
        auto const reply = co_await broken.read_http();
        EXPECT_EQ(reply.status, 400u);
        EXPECT_EQ(error_code_of(reply), "bad_request");

        auto large = co_await raw_connection::connect(server.port());
        co_await large.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) +
                             "\r\nContent-Length: 5000\r\n\r\n");
        auto const too_large = co_await large.read_http();
        EXPECT_EQ(too_large.status, 413u);
    });
    EXPECT_EQ(server.metrics().api_answers(400), 1u);
    EXPECT_EQ(server.metrics().api_answers(413), 1u);
}

// A Content-Length over every limit the server has (the API's, 1 MiB by default, the largest)
// is refused as the header ends, before the route's own check: still the API's JSON 413, counted.
TEST(api, a_body_announced_over_every_limit_gets_the_apis_json_413)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write("POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                  std::string(api_key) +
                                  "\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n");
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 413u);
        EXPECT_EQ(reply.headers.at("content-type"), "application/json");
        EXPECT_EQ(error_code_of(reply), "too_large");
    });
    EXPECT_EQ(server.metrics().api_answers(413), 1u);
}

// The key is checked first, whatever length the header announces: a client without it gets its
// 401, and does not learn the API's limit from a 413 (api.md).
TEST(api, a_body_announced_over_the_limits_without_the_key_gets_401)
{
    auto options = api_options();
    options.api_max_body_bytes = 100;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        // Over the API's limit only, then over every limit the server has.
        for (std::string const length : {"5000", "2000000"}) {
            for (std::string const key : {"", "Authorization: Bearer not-the-key\r\n"}) {
                std::string request = "POST /api/publish HTTP/1.1\r\nHost: x\r\n";
                request += key;
                request += "Content-Type: application/json\r\nContent-Length: ";
                request += length;
                request += "\r\n\r\n";
                auto connection = co_await raw_connection::connect(server.port());
                co_await connection.write(request);
                auto const reply = co_await connection.read_http();
                EXPECT_EQ(reply.status, 401u) << length << " bytes, " << (key.empty() ? "no key" : "a wrong key");
                EXPECT_EQ(error_code_of(reply), "unauthorized");
            }
        }
    });
    EXPECT_EQ(server.metrics().api_answers(401), 4u);
    EXPECT_EQ(server.metrics().api_answers(413), 0u);
}

// RFC 9110 9.3.2: an answer to HEAD has no body, or the client reads it as the next response's
// start. The API's answers (a 405 here, with its JSON error) and the admin endpoint's keep to it:
// the GET behind each HEAD is answered right after its header.
TEST(api, answers_to_head_have_no_body_and_the_next_response_follows_them)
{
    test_server server(api_options());
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server.port());
        co_await connection.write(
            "HEAD /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_key) +
            "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            "HEAD /api/nothing HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            "HEAD /admin/disconnect HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        for (unsigned const status : {405u, 401u, 404u}) {
            auto const head = co_await connection.read_http(true);
            EXPECT_EQ(head.status, status);
            EXPECT_NE(head.headers.at("content-length"), "0") << status << ": the length a GET's body would have";
            auto const next = co_await connection.read_http();
            EXPECT_EQ(next.status, 200u) << "after the " << status;
            EXPECT_EQ(next.body, "ok\n") << "after the " << status;
        }
    });
}

TEST(api, while_draining_publishes_get_503)
{
    auto options = api_options();
    options.shutdown_grace = std::chrono::seconds(10);
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto keeps_draining = co_await raw_connection::connect(server.port());  // never answers the close
        auto const upgraded = co_await keeps_draining.upgrade("/");
        require(upgraded.status == 101, "upgrade");
        auto connection = co_await raw_connection::connect(server.port());
        server.get().shutdown({});
        auto const goodbye = co_await keeps_draining.read_frame();  // the drain has begun
        EXPECT_EQ(goodbye.close_code(), 1001);
        co_await connection.write(api_post("/api/publish", R"({"topic":"t","text":"x"})"));
        auto const reply = co_await connection.read_http();
        EXPECT_EQ(reply.status, 503u);
        EXPECT_EQ(error_code_of(reply), "unavailable");
    });
    server.stop();
}

}  // namespace
}  // namespace coropush::testing
