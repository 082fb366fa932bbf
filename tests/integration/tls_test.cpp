// TLS on the port (--tls-cert, --tls-key): sessions over wss://, HTTPS, what a plain client gets,
// the closing handshake's time limit over TLS, bad files, and reloading the certificate. Each test
// makes its own CA and certificate (support/test_certificates.hpp).
#include "client/ws_client.hpp"
#include "protocol/messages.hpp"
#include "support/child_process.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_certificates.hpp"
#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;
namespace fs = std::filesystem;

// An echo round trip on a JSON-dialect session: it is alive and its TLS stream intact.
awaitable<void> expect_echo(ws_client& client, std::string text, std::uint64_t id)
{
    protocol::echo const request{text};
    co_await client.send(request, id);
    auto [echo, echo_id] = co_await client.receive_as<protocol::echo>();
    EXPECT_EQ(echo.text, text);
    EXPECT_EQ(echo_id, id);
}

// What constructing the server with `options` throws, or "" when it starts.
std::string start_error(server_options options)
{
    try {
        test_server server(std::move(options));
    } catch (std::exception const& e) {
        return e.what();
    }
    return {};
}

// The files a server was started with, replaced by another CA's certificate and key (what a
// certificate renewal does before it sends SIGHUP).
void install(test_certificates const& from, test_certificates const& into)
{
    fs::copy_file(from.cert_file(), into.cert_file(), fs::copy_options::overwrite_existing);
    fs::copy_file(from.key_file(), into.key_file(), fs::copy_options::overwrite_existing);
}

TEST(tls, a_json_session_runs_over_wss)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(wss_options(server.port(), certificates));
        EXPECT_EQ(client.subprotocol(), "coropush.v1");
        protocol::hello const hello{"over TLS"};
        co_await client.send(hello, 1);
        auto [welcome, welcome_id] = co_await client.receive_as<protocol::welcome>();
        EXPECT_EQ(welcome.text, "欢迎你朋友！");
        EXPECT_EQ(welcome_id, 1u);
        auto [notice, notice_id] = co_await client.receive_as<protocol::notice>();
        EXPECT_EQ(notice.text, "朋友，既然来就多看看！");
        // A message larger than a TLS record (16 KiB) comes back whole.
        co_await expect_echo(client, std::string(40'000, 'x'), 2);
        co_await client.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_total.load(), 1u);
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::tls), 0u);
}

// Replies over TLS, pipelined (every echo sent before any is read), of sizes on both sides of a
// TLS record's 16 KiB, mixed: every one comes back whole and in order. (Whether the server's
// writer finds several queued is up to the scheduler; the gathering itself is checked in
// tests/unit/tls_transport_test.cpp.)
TEST(tls, pipelined_replies_of_every_size_arrive_whole_and_in_order)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    std::vector<std::string> texts;
    for (std::size_t const size : {10u, 5'000u, 9'000u, 17'000u, 1u, 16'300u, 40'000u, 200u, 12'000u, 3u})
        for (char const fill : {'a', 'b'})
            texts.emplace_back(size, fill);
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(wss_options(server.port(), certificates));
        for (std::size_t i = 0; i < texts.size(); ++i) {
            protocol::echo const request{texts[i]};
            co_await client.send(request, i + 1);
        }
        for (std::size_t i = 0; i < texts.size(); ++i) {
            auto [echo, echo_id] = co_await client.receive_as<protocol::echo>();
            EXPECT_EQ(echo_id, i + 1);
            EXPECT_EQ(echo.text.size(), texts[i].size()) << "echo " << i + 1;
            EXPECT_TRUE(echo.text == texts[i]) << "echo " << i + 1 << " differs";
        }
        co_await client.close();
    });
    server.stop();
    EXPECT_EQ(server.metrics().websocket_sessions_total.load(), 1u);
}

// A push over TLS leaves without a writer when nothing else is being written: its write starts
// at once, and the writer's place is taken by a callback until it is out (websocket_session::
// send_now); what comes meanwhile waits in the queue, and a writer takes over when the write is
// out. Here the subscribers read nothing until every publish is acknowledged: 8 MB each, more
// than loopback holds for a reader that does not read with Linux's default limits (a receive
// buffer of 128 KiB that grows only as the reader reads, a send buffer of at most 4 MiB), so
// writes stay under way while the next pushes come, and those wait (the queue's limit raised to
// hold them). Every subscriber then gets every message once and in order, and its session goes
// on. (Messages of 15,000 bytes: under the 16 KiB a lone frame may be.)
TEST(tls, pushes_that_come_while_one_is_under_way_reach_every_subscriber_once_and_in_order)
{
    constexpr int subscribers = 2;
    constexpr int messages = 550;
    auto const text = [](int n) {
        return std::to_string(n) + ":" + std::string(15'000, static_cast<char>('a' + n % 26));
    };
    test_certificates const certificates;
    auto options = tls_test_options(certificates);
    options.max_queue_bytes = std::size_t{32} * 1024 * 1024;
    test_server server(options);
    run_client(
        [&]() -> awaitable<void> {
            auto const connect = wss_options(server.port(), certificates);  // named: GCC 12, CONTRIBUTING.md
            std::vector<ws_client> subs;
            subs.reserve(subscribers);
            for (int i = 0; i < subscribers; ++i)
                subs.push_back(co_await subscriber(connect, "tls-fan"));
            auto publisher = co_await ws_client::connect(connect);
            for (int n = 0; n < messages; ++n)
                EXPECT_EQ(co_await publish(publisher, "tls-fan", text(n), static_cast<std::uint64_t>(n) + 1),
                          static_cast<std::uint64_t>(subscribers));
            for (auto& sub : subs) {
                for (int n = 0; n < messages; ++n)
                    EXPECT_TRUE(co_await next_text(sub) == text(n)) << "message " << n;
                co_await still_open(sub, 2);
                co_await sub.close();
            }
            co_await publisher.close();
        },
        std::chrono::seconds(60));
    server.stop();
    EXPECT_EQ(server.metrics().deliveries.load(), static_cast<std::uint64_t>(subscribers * messages));
    EXPECT_EQ(server.metrics().slow_consumer_closes.load(), 0u);
}

TEST(tls, pages_and_healthz_are_served_over_https)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    run_client([&]() -> awaitable<void> {
        auto https = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
        co_await https.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        auto const health = co_await https.read_http();
        EXPECT_EQ(health.status, 200u);
        EXPECT_EQ(health.body, "ok\n");
        // The same connection, kept alive: the dashboard's page.
        co_await https.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        auto const page = co_await https.read_http();
        EXPECT_EQ(page.status, 200u);
        EXPECT_EQ(page.headers.at("content-type").rfind("text/html", 0), 0u);
        EXPECT_NE(page.body.find("<html"), std::string::npos);
        bool const closed = co_await https.closed_by_server();
        EXPECT_TRUE(closed) << "the server ends the connection after a Connection: close response";
    });
}

// An API request without the key is answered as its header ends; over TLS too, the body the
// client sends anyway is read and dropped until the client closes (its write completes), and the
// server's close follows.
TEST(tls, a_request_refused_on_its_header_has_its_body_dropped_before_the_close)
{
    test_certificates const certificates;
    auto options = tls_test_options(certificates);
    options.api_key = "the-tls-tests-api-key";
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto https = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
        std::size_t const body_size = 1'000'000;  // within --api-max-body (1 MiB)
        co_await https.write("POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Content-Length: " +
                             std::to_string(body_size) + "\r\n\r\n");
        auto const reply = co_await https.read_http();
        EXPECT_EQ(reply.status, 401u);
        EXPECT_EQ(reply.headers.at("connection"), "close");
        co_await https.write(std::string(body_size, ' '));
        https.stop_sending();  // as a client does once it has read a Connection: close answer
        bool const closed = co_await https.closed_by_server();
        EXPECT_TRUE(closed);
    });
    EXPECT_EQ(server.metrics().api_answers(401), 1u);
}

TEST(tls, plain_http_to_the_tls_port_is_refused_by_the_handshake_and_counted)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    run_client([&]() -> awaitable<void> {
        auto plain_http = co_await raw_connection::connect(server.port());
        co_await plain_http.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        bool const closed = co_await plain_http.closed_by_server();
        EXPECT_TRUE(closed);
    });
    server.stop();
    EXPECT_EQ(server.metrics().handshake_failures(handshake_failure::tls), 1u);
    EXPECT_EQ(server.metrics().http_requests.load(), 0u);
}

TEST(tls, a_peer_that_never_answers_the_close_notify_is_cut_off_at_the_close_timeout)
{
    test_certificates const certificates;
    auto options = tls_test_options(certificates);
    options.close_timeout = 100ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto peer = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
        auto const reply = co_await peer.upgrade("/");
        require(reply.status == 101, "upgrade");
        // The peer closes, and then neither reads the reply and the server's close_notify nor
        // sends its own: the server's TLS shutdown waits for the close timeout, not for good.
        co_await peer.write(raw_connection::close_frame(1000));
        co_await eventually([&] { return server.get().websocket_sessions() == 0; }, "the session has ended", 5s);
    });
}

TEST(tls, a_message_over_the_limit_gets_its_1009_and_an_orderly_end)
{
    // As over plain TCP (bad_input.the_rest_of_a_message_over_the_limit_is_read_so_the_1009_is_not
    // _lost_to_a_reset): the rest of the message is read, not left unread under a close that
    // would reset the connection. Over TLS, OpenSSL 3 abandons the close_notify exchange when
    // application data follows its close_notify; the teardown then reads the rest as TCP bytes,
    // to the peer's end (tls_teardown_op). Without that, this client's write met a broken pipe.
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));  // --max-message 64k
    run_client([&]() -> awaitable<void> {
        auto peer = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
        auto const reply = co_await peer.upgrade("/", "Sec-WebSocket-Protocol: coropush.v1\r\n");
        EXPECT_EQ(reply.status, 101u);
        co_await peer.write(raw_connection::frame(1, std::string(std::size_t{1} << 20, 'x')));
        auto const closing = co_await peer.read_frame();
        EXPECT_EQ(closing.opcode, 8);
        EXPECT_EQ(closing.close_code(), 1009);
        peer.stop_sending();
        EXPECT_EQ(co_await peer.how_the_server_ended(), boost::asio::error::eof)
            << "the server's close_notify, not a truncation or a reset";
    });
}

TEST(tls, a_close_code_no_endpoint_may_send_drops_the_connection)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    run_client([&]() -> awaitable<void> {
        auto peer = co_await raw_connection::connect_tls(server.port(), certificates.ca_file().string());
        auto const reply = co_await peer.upgrade("/");
        require(reply.status == 101, "upgrade");
        // Over plain TCP the server slips a 1002 in ahead of Beast's echo; over TLS it cannot
        // write past the TLS stream, so the connection is dropped (RFC 6455 7.1.7 allows both).
        co_await peer.write(raw_connection::close_frame(5000));
        bool const closed = co_await peer.closed_by_server();
        EXPECT_TRUE(closed);
        co_await eventually([&] { return server.get().websocket_sessions() == 0; }, "the session has ended");
    });
}

TEST(tls, bad_certificate_or_key_files_stop_the_server_from_starting_with_the_reason)
{
    test_certificates const certificates;
    test_certificates const other("another CA");
    auto const garbage = certificates.directory() / "garbage.pem";
    std::ofstream(garbage) << "not a certificate\n";

    auto options = tls_test_options(certificates);
    options.tls_cert_file = garbage.string();
    auto error = start_error(options);
    EXPECT_NE(error.find("--tls-cert " + garbage.string() + ": no usable certificate chain"), std::string::npos)
        << error;

    options = tls_test_options(certificates);
    options.tls_key_file = (certificates.directory() / "missing.pem").string();
    error = start_error(options);
    EXPECT_NE(error.find("--tls-key " + options.tls_key_file + ": "), std::string::npos) << error;

    options = tls_test_options(certificates);
    options.tls_key_file = other.key_file().string();
    error = start_error(options);
    EXPECT_NE(error.find("does not match the certificate in " + options.tls_cert_file), std::string::npos) << error;

    fs::permissions(certificates.key_file(), fs::perms::others_read, fs::perm_options::add);
    error = start_error(tls_test_options(certificates));
    EXPECT_NE(error.find("readable by every user of this machine"), std::string::npos) << error;
}

TEST(tls, a_reload_presents_the_new_certificate_to_new_connections_and_open_sessions_go_on)
{
    test_certificates const served;  // the files the server is started with, and reloads
    test_certificates const renewed("the renewed certificate's CA");
    // Two io threads, sessions on their strands, and the reload from another thread meanwhile.
    test_server server(tls_test_options(served), 2);
    run_client([&]() -> awaitable<void> {
        auto before = co_await ws_client::connect(wss_options(server.port(), served));
        co_await expect_echo(before, "before the reload", 1);

        install(renewed, served);
        auto const problem = server.get().reload_tls();
        EXPECT_FALSE(problem) << *problem;

        // The open session keeps the TLS connection it has.
        co_await expect_echo(before, "after the reload", 2);
        // A new connection gets the new certificate: trusted by the new CA, not by the old one.
        auto after = co_await ws_client::connect(wss_options(server.port(), renewed));
        co_await expect_echo(after, "new connection", 3);
        bool refused = false;
        try {
            co_await ws_client::connect(wss_options(server.port(), served));
        } catch (boost::system::system_error const&) {
            refused = true;
        }
        EXPECT_TRUE(refused) << "a client trusting only the old CA accepted the new certificate";
        co_await expect_echo(before, "still there", 4);
        co_await before.close();
        co_await after.close();
    });
}

TEST(tls, a_reload_that_fails_keeps_the_old_certificate)
{
    test_certificates const certificates;
    test_server server(tls_test_options(certificates));
    std::ofstream(certificates.cert_file(), std::ios::trunc) << "half-written\n";
    auto const problem = server.get().reload_tls();
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("--tls-cert " + certificates.cert_file().string()), std::string::npos) << *problem;
    run_client([&]() -> awaitable<void> {
        auto client = co_await ws_client::connect(wss_options(server.port(), certificates));
        co_await expect_echo(client, "the old certificate", 1);
        co_await client.close();
    });
}

// The executable's side: SIGHUP reloads, and a bad file at start is an error naming it (exit 1).
TEST(tls, the_executable_reloads_on_sighup_and_refuses_to_start_with_a_bad_file)
{
    test_certificates const served;
    test_certificates const renewed("the renewed certificate's CA");
    run_client([&]() -> awaitable<void> {
        auto const executor = co_await boost::asio::this_coro::executor;
        std::vector<std::string> const args{"--port",     "0",
                                            "--web-root", web_directory().string(),
                                            "--tls-cert", served.cert_file().string(),
                                            "--tls-key",  served.key_file().string()};
        child_process server(executor, coropush_executable(), args);
        auto const port = port_from_log_line(co_await server.wait_for_line("listening on"));
        install(renewed, served);
        server.signal(SIGHUP);
        co_await server.wait_for_line("TLS certificate reloaded");
        auto client = co_await ws_client::connect(wss_options(port, renewed));
        co_await expect_echo(client, "after SIGHUP", 1);
        co_await client.close();
        server.signal(SIGTERM);
        int const status = co_await server.wait_for_exit();
        EXPECT_EQ(status, 0) << server.output();

        std::ofstream(served.cert_file(), std::ios::trunc) << "not a certificate\n";
        child_process refused(executor, coropush_executable(), args);
        int const refused_status = co_await refused.wait_for_exit();
        EXPECT_EQ(refused_status, 1) << refused.output();
        EXPECT_NE(refused.output().find("cannot start: --tls-cert " + served.cert_file().string()), std::string::npos)
            << refused.output();
    });
}

}  // namespace
}  // namespace coropush::testing
