// Plain HTTP on the same port: files from the web root with the right types, the operational
// endpoints, and no way out of the web root.
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;
namespace fs = std::filesystem;

// A web root with a page, a script, a nested file, a symlink inside and two leading outside.
class http_fixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = fs::temp_directory_path() / ("coropush-http-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(base_);
        fs::create_directories(base_ / "root" / "sub");
        fs::create_directories(base_ / "outside");
        write(base_ / "root" / "index.html", "<!doctype html><title>home</title>");
        write(base_ / "root" / "app.js", "export const x = 1;");
        write(base_ / "root" / "style.css", "body{}");
        write(base_ / "root" / "sub" / "index.html", "sub page");
        write(base_ / "root" / "a b.txt", "spaced");
        write(base_ / "outside" / "secret.txt", "SECRET");
        fs::create_symlink(base_ / "outside" / "secret.txt", base_ / "root" / "leak.txt");
        fs::create_directory_symlink(base_ / "outside", base_ / "root" / "leakdir");
        fs::create_symlink(base_ / "root" / "app.js", base_ / "root" / "alias.js");

        auto options = test_options();
        options.web_root = (base_ / "root").string();
        server_.emplace(options);
    }

    void TearDown() override
    {
        server_.reset();
        fs::remove_all(base_);
    }

    static void write(fs::path const& p, std::string const& text) { std::ofstream(p) << text; }

    // One request on a fresh connection.
    http_reply request(std::string raw)
    {
        http_reply reply;
        run_client([&]() -> awaitable<void> {
            auto connection = co_await raw_connection::connect(server_->port());
            co_await connection.write(raw);
            reply = co_await connection.read_http();
        });
        return reply;
    }

    http_reply get(std::string const& target, std::string const& method = "GET")
    {
        return request(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    }

    fs::path base_;
    std::optional<test_server> server_;
};

TEST_F(http_fixture, serves_files_with_their_content_types)
{
    auto home = get("/");
    EXPECT_EQ(home.status, 200u);
    EXPECT_EQ(home.body, "<!doctype html><title>home</title>");
    EXPECT_EQ(home.headers["content-type"], "text/html; charset=utf-8");

    auto script = get("/app.js");
    EXPECT_EQ(script.status, 200u);
    EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
    EXPECT_EQ(get("/style.css").headers["content-type"], "text/css; charset=utf-8");
    EXPECT_EQ(get("/sub/").body, "sub page");
    EXPECT_EQ(get("/app.js/").status, 404u) << "a file is not a directory";
    EXPECT_EQ(get("/index.html/").status, 404u) << "a file is not a directory";
    // A directory without its slash is sent to it (its page's relative links need it), query and
    // all, and with one leading slash whatever the request had (no "//host/" in the Location).
    for (auto const& [target, location] : std::vector<std::pair<std::string, std::string>>{
             {"/sub", "/sub/"}, {"/sub?x=1", "/sub/?x=1"}, {"//sub", "/sub/"}, {"/./sub", "/./sub/"}}) {
        auto const moved = get(target);
        EXPECT_EQ(moved.status, 301u) << target;
        EXPECT_EQ(moved.headers.at("location"), location) << target;
    }
    EXPECT_EQ(get("/a%20b.txt").body, "spaced");
    EXPECT_EQ(get("/app.js?v=3").status, 200u);
    EXPECT_EQ(get("/alias.js").status, 200u) << "a symlink that stays inside the root is fine";
}

TEST_F(http_fixture, head_answers_headers_without_a_body)
{
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server_->port());
        co_await connection.write("HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        // The HEAD response has no body, so the next response follows it directly.
        auto const head = co_await connection.read_http(true);
        auto const next = co_await connection.read_http();
        EXPECT_EQ(head.status, 200u);
        EXPECT_EQ(head.headers.at("content-length"), "19");
        EXPECT_EQ(next.body, "body{}");
        // The header a GET gets, every field of it (RFC 9110 9.3.2).
        co_await connection.write("GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const get = co_await connection.read_http();
        EXPECT_EQ(head.headers, get.headers);

        // The endpoints and a 404 keep to it too.
        co_await connection.write("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /missing HTTP/1.1\r\nHost: "
                                  "x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const health = co_await connection.read_http(true);
        auto const missing = co_await connection.read_http(true);
        auto const after = co_await connection.read_http();
        EXPECT_EQ(health.status, 200u);
        EXPECT_EQ(health.headers.at("content-length"), "3");
        EXPECT_EQ(missing.status, 404u);
        EXPECT_EQ(after.body, "ok\n");
    });
}

TEST_F(http_fixture, an_unchanged_file_is_answered_304_and_a_changed_one_sent_again)
{
    auto const first = get("/app.js");
    ASSERT_EQ(first.status, 200u);
    EXPECT_EQ(first.headers.at("cache-control"), "no-cache");
    auto const etag = first.headers.at("etag");
    auto const modified = first.headers.at("last-modified");
    EXPECT_TRUE(etag.starts_with('"')) << etag;
    EXPECT_TRUE(modified.ends_with(" GMT")) << modified;

    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server_->port());
        // A 304 has no body: the next response on the connection follows its header.
        co_await connection.write("GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag +
                                  "\r\n\r\nHEAD /app.js HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " + modified +
                                  "\r\n\r\nGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        auto const by_tag = co_await connection.read_http();
        auto const by_date = co_await connection.read_http(true);
        auto const next = co_await connection.read_http();
        for (auto const* reply : {&by_tag, &by_date}) {
            EXPECT_EQ(reply->status, 304u);
            EXPECT_EQ(reply->body, "");
            EXPECT_EQ(reply->headers.at("etag"), etag);
            EXPECT_EQ(reply->headers.at("last-modified"), modified);
            EXPECT_EQ(reply->headers.count("content-type"), 0u);
        }
        EXPECT_EQ(next.body, "body{}");
    });
    EXPECT_NE(get("/style.css").headers.at("etag"), etag) << "each file has its own";

    write(base_ / "root" / "app.js", "export const x = 2; // changed");
    auto const again = request("GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n");
    EXPECT_EQ(again.status, 200u);
    EXPECT_EQ(again.body, "export const x = 2; // changed");
    EXPECT_NE(again.headers.at("etag"), etag);
}

TEST_F(http_fixture, missing_files_are_404_and_other_methods_405)
{
    EXPECT_EQ(get("/nope.html").status, 404u);
    auto post = request("POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(post.status, 405u);
    EXPECT_EQ(post.headers["allow"], "GET, HEAD");
    EXPECT_EQ(get("/index.html", "DELETE").status, 405u);
}

TEST_F(http_fixture, no_request_leaves_the_web_root)
{
    std::vector<std::string> const targets{"/../outside/secret.txt",
                                           "/sub/../../outside/secret.txt",
                                           "/%2e%2e/outside/secret.txt",
                                           "/%2E%2E%2Foutside%2Fsecret.txt",
                                           "/..%2foutside/secret.txt",
                                           "/sub/%2e%2e/%2e%2e/outside/secret.txt",
                                           "/leak.txt",
                                           "/leakdir/secret.txt",
                                           "//etc/passwd",
                                           "/%00index.html",
                                           "/..\\outside\\secret.txt",
                                           "http://127.0.0.1/../outside/secret.txt",
                                           "/" + (base_ / "outside" / "secret.txt").string()};
    for (auto const& target : targets) {
        auto const reply = get(target);
        EXPECT_EQ(reply.status, 404u) << target << " (docs/options.md: a path outside the web root is a 404)";
        EXPECT_EQ(reply.body.find("SECRET"), std::string::npos) << target;
    }
}

TEST_F(http_fixture, health_readiness_and_metrics_endpoints)
{
    auto health = get("/healthz");
    EXPECT_EQ(health.status, 200u);
    EXPECT_EQ(health.body, "ok\n");
    auto ready = get("/readyz");
    EXPECT_EQ(ready.status, 200u);
    EXPECT_EQ(ready.body, "ready\n");
    auto metrics = get("/metrics");
    EXPECT_EQ(metrics.status, 200u);
    EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body.find("coropush_websocket_sessions_open 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("# TYPE coropush_messages_received_total counter"), std::string::npos);
}

// RFC 9112 6.3: a request whose Transfer-Encoding does not end in chunked has a body of unknown
// length: 400, and the connection is closed. Read as a request without a body, its body would be
// taken for the next request (request smuggling): here a GET that must never be answered.
TEST_F(http_fixture, a_transfer_encoding_that_does_not_end_in_chunked_is_refused_and_the_connection_closed)
{
    for (std::string const coding : {"gzip", "identity", "chunked, gzip", "chunkedx"}) {
        run_client([&]() -> awaitable<void> {
            auto connection = co_await raw_connection::connect(server_->port());
            co_await connection.write("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                                      "\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
            auto const reply = co_await connection.read_http();
            EXPECT_EQ(reply.status, 400u) << coding;
            bool const closed = co_await connection.closed_by_server();
            EXPECT_TRUE(closed) << coding;
        });
    }
    EXPECT_EQ(server_->metrics().http_requests.load(), 0u) << "the GET in the body was never answered";
    auto const chunked =
        request("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.status, 405u) << "ending in chunked, the body's length is known: the request is answered";
}

// Outside /api/ nothing reads a body: a body held back for a 100 Continue is never asked for. The
// final answer comes on the header alone (RFC 9110 10.1.1), then the connection closes.
TEST_F(http_fixture, a_body_held_back_for_100_continue_is_not_asked_for_where_none_is_read)
{
    struct held_back {
        std::string request_line;
        unsigned status;
    };
    std::vector<held_back> const cases{{"POST /", 405u}, {"GET /healthz", 200u}};
    for (auto const& c : cases) {
        run_client([&]() -> awaitable<void> {
            auto connection = co_await raw_connection::connect(server_->port());
            co_await connection.write(c.request_line +
                                      " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            auto reply = co_await connection.read_http();
            EXPECT_EQ(reply.status, c.status) << c.request_line << ": no 100 first";
            EXPECT_EQ(reply.headers["connection"], "close") << c.request_line;
            co_await connection.write("hello");  // a client that stopped waiting sends it anyway
            bool const closed = co_await connection.closed_by_server();
            EXPECT_TRUE(closed) << c.request_line;
        });
    }
}

// RFC 9112 3.2: an HTTP/1.1 request without a Host, or with two, is 400 (and the connection
// closed); HTTP/1.0 has no Host to require.
TEST_F(http_fixture, an_http_1_1_request_without_exactly_one_host_is_refused)
{
    EXPECT_EQ(request("GET /healthz HTTP/1.1\r\n\r\n").status, 400u);
    EXPECT_EQ(request("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400u);
    EXPECT_EQ(request("GET /healthz HTTP/1.0\r\n\r\n").status, 200u);
    EXPECT_EQ(request("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status, 200u);
}

// RFC 9112 3.2.2: a server accepts a target in absolute form; it is served as its path and query,
// its authority standing for the Host.
TEST_F(http_fixture, a_target_in_absolute_form_is_served_as_its_path)
{
    auto const script = get("http://127.0.0.1/app.js");
    EXPECT_EQ(script.status, 200u);
    EXPECT_EQ(script.body, "export const x = 1;");
    EXPECT_EQ(get("http://example.com").body, "<!doctype html><title>home</title>") << "no path: /";
    EXPECT_EQ(get("https://example.com:8443/sub/?x=1").body, "sub page");
    EXPECT_EQ(get("ftp://127.0.0.1/app.js").status, 404u) << "not HTTP";
    EXPECT_EQ(request("GET http://a/healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400u)
        << "two Hosts are still two";
}

TEST_F(http_fixture, keep_alive_serves_several_requests_on_one_connection)
{
    run_client([&]() -> awaitable<void> {
        auto connection = co_await raw_connection::connect(server_->port());
        for (int i = 0; i < 3; ++i) {
            co_await connection.write("GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n");
            auto const reply = co_await connection.read_http();
            EXPECT_EQ(reply.status, 200u);
        }
        co_await connection.write("GET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        auto const last = co_await connection.read_http();
        EXPECT_EQ(last.status, 200u);
        bool const closed = co_await connection.closed_by_server();
        EXPECT_TRUE(closed);
    });
}

}  // namespace
}  // namespace coropush::testing
