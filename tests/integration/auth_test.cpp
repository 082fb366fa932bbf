// Authentication and permissions on the JSON dialect: the `auth` message under each --auth mode,
// refused tokens, forbidden topics and jobs (the connection stays), personal topics, the
// anonymous patterns, the session's deadlines (4401 without a token, 4001 at expiry), and
// disconnecting a user. The plain demo is not affected.
#include "auth/token_errc.hpp"
#include "client/ws_client.hpp"
#include "protocol/close_codes.hpp"
#include "protocol/errc.hpp"
#include "support/auth_test_tokens.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;
using wall_clock = std::chrono::system_clock;

constexpr char secret[] = "the integration tests' HS256 secret, over 32 bytes";

server_options with_auth(auth::auth_mode mode)
{
    auto options = test_options();
    options.auth = mode;
    options.auth_key = secret;
    options.auth_clock_skew = 0s;  // so that a session ends exactly at its token's exp
    return options;
}

double unix_now()
{
    return std::chrono::duration<double>(wall_clock::now().time_since_epoch()).count();
}

// A token for `user` that expires at `exp` (seconds since 1970), with `more` claims (JSON members).
std::string token_until(std::string const& user, double exp, std::string const& more = "")
{
    char exp_text[32];
    std::snprintf(exp_text, sizeof exp_text, "%.0f", exp);
    return auth::test_tokens::sign(
        "HS256", secret, R"({"sub":")" + user + R"(","exp":)" + exp_text + (more.empty() ? "" : "," + more) + "}");
}

// The same, valid for ten minutes.
std::string token_for(std::string const& user, std::string const& more = "")
{
    return token_until(user, unix_now() + 600, more);
}

// The next whole second at least `ahead` from now: an `exp` that the verifier (which counts whole
// seconds) sees exactly, and that comes soon.
double whole_second_after(std::chrono::milliseconds ahead)
{
    return std::ceil(unix_now() + std::chrono::duration<double>(ahead).count());
}

wall_clock::time_point at_unix(double seconds)
{
    return wall_clock::time_point{
        std::chrono::duration_cast<wall_clock::duration>(std::chrono::duration<double>(seconds))};
}

// The next message must be an error envelope for request `id`: returns its code.
awaitable<std::string> error_code_of(ws_client& c, std::uint64_t id)
{
    auto const [error, reply_id] = co_await c.receive_as<protocol::error>();
    require(reply_id == id, "the error carries the request's id");
    co_return error.code;
}

// Sends a Request made of `fields` and returns the code of the error it gets. (The request is
// built here, as a named variable: GCC 12 may destroy an aggregate temporary in a co_await
// full-expression twice.)
template <class Request, class... Fields>
awaitable<std::string> refused(ws_client& c, std::uint64_t id, Fields... fields)
{
    Request const request{std::move(fields)...};
    co_await c.send(request, id);
    co_return co_await error_code_of(c, id);
}

template <class Request, class... Fields>
awaitable<void> send(ws_client& c, std::uint64_t id, Fields... fields)
{
    Request const request{std::move(fields)...};
    co_await c.send(request, id);
}

awaitable<std::string> job_started_by(ws_client& c, std::uint64_t id)
{
    protocol::job_start const start{"sample", 1000, 50, std::nullopt, std::nullopt};  // outlasts the test
    co_return co_await start_job(c, start, id);
}

TEST(auth, with_auth_off_no_token_is_needed_and_an_auth_message_is_refused)
{
    test_server server;
    run_client([&]() -> awaitable<void> {
        auto c = co_await subscriber(server.port(), "user:alice");  // no rules at all when off
        auto publisher = co_await ws_client::connect(json(server.port()));
        EXPECT_EQ(co_await publish(publisher, "user:alice", "hi", 1), 1u);
        EXPECT_EQ(co_await next_text(c), "hi");
        EXPECT_EQ(co_await refused<protocol::auth>(c, 3, token_for("alice")), "unauthorized");
        co_await still_open(c, 4);
    });
}

TEST(auth, required_refuses_every_request_until_a_valid_token_then_applies_its_patterns)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        EXPECT_EQ(co_await refused<protocol::subscribe>(c, 1, "news"), "unauthorized");
        EXPECT_EQ(co_await refused<protocol::echo>(c, 2, "hi"), "unauthorized");

        double const exp = std::floor(unix_now()) + 600;
        auto const who = co_await authenticate(c, token_until("alice", exp, R"("subscribe":["news.*"])"), 3);
        EXPECT_EQ(who.user, "alice");
        EXPECT_EQ(who.expires, static_cast<std::uint64_t>(exp));

        co_await send<protocol::subscribe>(c, 4, "news.eu");
        auto const [subscribed, id] = co_await c.receive_as<protocol::subscribed>();
        EXPECT_EQ(id, 4u);
        EXPECT_EQ(co_await refused<protocol::subscribe>(c, 5, "sport"), "forbidden");
        EXPECT_EQ(co_await refused<protocol::publish>(c, 6, "news.eu", "hi"), "forbidden");  // no publish patterns
        co_await still_open(c, 7);
    });
    server.stop();
    EXPECT_EQ(server.metrics().forbidden_operations.load(), 2u);
    EXPECT_EQ(server.metrics().error_envelopes(protocol::errc::unauthorized), 2u);
}

TEST(auth, a_refused_token_says_why_and_the_connection_stays)
{
    test_server server(with_auth(auth::auth_mode::optional));
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(json(server.port()));
        struct bad_token {
            std::string token;
            std::string_view reason;
        };
        auto const forged =
            auth::test_tokens::sign("HS256", "another secret that is also 32 bytes long",
                                    R"({"sub":"alice","exp":)" + std::to_string(unix_now() + 600) + "}");
        auto const rs256 = auth::test_tokens::sign("RS256", auth::test_tokens::rsa_key().private_pem,
                                                   R"({"sub":"alice","exp":4000000000})");
        std::uint64_t id = 1;
        for (auto const& bad : std::vector<bad_token>{
                 {forged, "bad_signature"},
                 {token_until("alice", std::floor(unix_now()) - 5), "expired"},
                 {rs256, "unsupported_alg"},
                 {"not a token", "malformed"},
             }) {
            co_await send<protocol::auth>(c, id, bad.token);
            auto const [error, error_id] = co_await c.receive_as<protocol::error>();
            EXPECT_EQ(error_id, id);
            EXPECT_EQ(error.code, "unauthorized");
            EXPECT_TRUE(error.message.starts_with(std::string(bad.reason) + ": ")) << error.message;
            ++id;
        }
        co_await still_open(c, id);
    });
    server.stop();
    EXPECT_EQ(server.metrics().auth_failures(auth::token_errc::bad_signature), 1u);
    EXPECT_EQ(server.metrics().auth_failures(auth::token_errc::expired), 1u);
    EXPECT_EQ(server.metrics().auth_failures(auth::token_errc::unsupported_alg), 1u);
    EXPECT_EQ(server.metrics().auth_failures(auth::token_errc::malformed), 1u);
}

TEST(auth, only_its_user_may_subscribe_to_a_personal_topic_and_a_wildcard_does_not_reach_it)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        auto alice = co_await signed_in(server.port(), token_for("alice"));
        co_await send<protocol::subscribe>(alice, 2, "user:alice");
        co_await alice.receive_as<protocol::subscribed>();

        auto bob = co_await signed_in(server.port(), token_for("bob", R"("subscribe":["*"],"publish":["*"])"));
        EXPECT_EQ(co_await refused<protocol::subscribe>(bob, 2, "user:alice"), "forbidden");
        EXPECT_EQ(co_await refused<protocol::publish>(bob, 3, "user:alice", "psst"), "forbidden");

        auto desk = co_await signed_in(server.port(), token_for("support", R"("publish":["user:*"])"));
        EXPECT_EQ(co_await publish(desk, "user:alice", "your ticket is answered", 2), 1u);
        EXPECT_EQ(co_await next_text(alice), "your ticket is answered");
        co_await still_open(bob, 4);
    });
}

TEST(auth, optional_gives_clients_without_a_token_the_anonymous_patterns_and_no_jobs)
{
    auto options = with_auth(auth::auth_mode::optional);
    options.anonymous_subscribe = {"news.*"};
    options.anonymous_publish = {"chat.*"};
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto anonymous = co_await subscriber(server.port(), "news.eu");
        EXPECT_EQ(co_await refused<protocol::subscribe>(anonymous, 2, "private"), "forbidden");
        EXPECT_EQ(co_await publish(anonymous, "chat.lobby", "hello", 3), 0u);
        EXPECT_EQ(co_await refused<protocol::publish>(anonymous, 4, "news.eu", "fake news"), "forbidden");
        EXPECT_EQ(co_await refused<protocol::job_start>(anonymous, 5), "forbidden");

        // A token adds its patterns to the anonymous ones.
        auto editor = co_await signed_in(server.port(), token_for("editor", R"("publish":["news.*"])"));
        EXPECT_EQ(co_await publish(editor, "news.eu", "real news", 2), 1u);
        EXPECT_EQ(co_await publish(editor, "chat.lobby", "hi all", 3), 0u);
        EXPECT_EQ(co_await next_text(anonymous), "real news");
    });
}

TEST(auth, a_job_belongs_to_the_user_who_started_it)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        auto alice = co_await signed_in(server.port(), token_for("alice"));
        auto const job = co_await job_started_by(alice, 2);

        auto bob = co_await signed_in(server.port(), token_for("bob"));
        EXPECT_EQ(co_await refused<protocol::job_resume>(bob, 2, job, std::uint64_t{0}), "forbidden");
        EXPECT_EQ(co_await refused<protocol::job_cancel>(bob, 3, job), "forbidden");

        // Alice, from another connection, may.
        auto alice_again = co_await signed_in(server.port(), token_for("alice"));
        co_await send<protocol::job_cancel>(alice_again, 2, job);
        auto const [cancelling, id] = co_await alice_again.receive_as<protocol::job_cancelling>();
        EXPECT_EQ(cancelling.job, job);
    });
}

// A job_start's key names a job for its user only: the same key from another user starts a job
// of that user's, and tells nothing of the first.
TEST(auth, a_start_key_is_the_users_own)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        protocol::job_start const start{"sample", 1000, 50, std::nullopt, std::string("shared-key-0123456789")};
        auto alice = co_await signed_in(server.port(), token_for("alice"));
        auto const alices = co_await start_job(alice, start, 2);
        auto bob = co_await signed_in(server.port(), token_for("bob"));
        auto const bobs = co_await start_job(bob, start, 2);
        EXPECT_NE(bobs, alices);
        auto alice_again = co_await signed_in(server.port(), token_for("alice"));
        EXPECT_EQ(co_await start_job(alice_again, start, 2), alices);
    });
}

TEST(auth, a_fresh_token_for_the_same_user_extends_the_session_and_another_users_is_forbidden)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        double const first_exp = whole_second_after(300ms);
        auto c = co_await signed_in(server.port(), token_until("alice", first_exp));
        EXPECT_EQ(co_await refused<protocol::auth>(c, 2, token_for("mallory")), "forbidden");

        double const second_exp = first_exp + 1;
        auto const renewed = co_await authenticate(c, token_until("alice", second_exp), 3);
        EXPECT_EQ(renewed.expires, static_cast<std::uint64_t>(second_exp));

        auto const end = co_await c.receive_close();
        auto const closed_at = wall_clock::now();
        EXPECT_EQ(end.close_code, protocol::close_codes::token_expired);
        EXPECT_EQ(end.close_reason, "token expired");
        EXPECT_GE(closed_at, at_unix(second_exp) - 50ms) << "closed at the first token's expiry";
        EXPECT_LE(closed_at, at_unix(second_exp) + 1s);
    });
    server.stop();
    EXPECT_EQ(server.metrics().closes_sent(protocol::close_codes::token_expired), 1u);
}

TEST(auth, a_session_whose_token_expires_is_closed_with_4001)
{
    test_server server(with_auth(auth::auth_mode::optional));
    run_client([&]() -> awaitable<void> {
        double const exp = whole_second_after(300ms);
        auto c = co_await signed_in(server.port(), token_until("alice", exp));
        auto const end = co_await c.receive_close();
        auto const closed_at = wall_clock::now();
        EXPECT_EQ(end.close_code, protocol::close_codes::token_expired);
        // Both bounds: not before the token's exp (the 50 ms allow for the two clocks' readings),
        // and soon after it.
        EXPECT_GE(closed_at, at_unix(exp) - 50ms);
        EXPECT_LE(closed_at, at_unix(exp) + 1s);
    });
}

TEST(auth, under_required_a_connection_without_a_token_is_closed_at_the_handshake_timeout)
{
    auto options = with_auth(auth::auth_mode::required);
    options.handshake_timeout = 300ms;
    options.push_delay = 600ms;
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto const started = std::chrono::steady_clock::now();
        auto silent = co_await ws_client::connect(json(server.port()));
        auto const end = co_await silent.receive_close();
        auto const waited = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(end.close_code, protocol::close_codes::authentication_required);
        EXPECT_EQ(end.close_reason, "authentication required");
        EXPECT_GE(waited, 300ms);
        EXPECT_LT(waited, 1300ms);

        // One that authenticates in time outlives the deadline: its notice comes 600 ms after the hello.
        auto c = co_await signed_in(server.port(), token_for("alice"));
        co_await send<protocol::hello>(c, 2, "hi");
        co_await c.receive_as<protocol::welcome>();
        co_await c.receive_as<protocol::notice>();
        co_await still_open(c, 3);
    });
    server.stop();
    EXPECT_EQ(server.metrics().closes_sent(protocol::close_codes::authentication_required), 1u);
}

TEST(auth, the_plain_demo_is_not_affected_by_auth_required)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        auto c = co_await ws_client::connect(plain(server.port()));
        co_await c.send_text("hello");
        auto const welcome = co_await c.receive();
        EXPECT_EQ(welcome.payload, "欢迎你朋友！");
    });
}

TEST(auth, disconnect_user_closes_every_session_of_that_user_and_no_other)
{
    test_server server(with_auth(auth::auth_mode::required));
    run_client([&]() -> awaitable<void> {
        auto phone = co_await signed_in(server.port(), token_for("alice"));
        auto laptop = co_await signed_in(server.port(), token_for("alice"));
        auto bob = co_await signed_in(server.port(), token_for("bob"));

        EXPECT_EQ(server.get().disconnect_user("alice"), 2u);
        for (auto* c : {&phone, &laptop}) {
            auto const end = co_await c->receive_close();
            EXPECT_EQ(end.close_code, protocol::close_codes::disconnected);
            EXPECT_EQ(end.close_reason, "disconnected by the application");
        }
        co_await still_open(bob, 2);
        EXPECT_EQ(server.get().disconnect_user("nobody"), 0u);
    });
}

// The same through the server API, as a backend does it (a logout, a ban).
TEST(auth, the_api_disconnects_every_session_of_a_user)
{
    auto options = with_auth(auth::auth_mode::required);
    options.api_key = "api-key-for-the-auth-tests";
    test_server server(options);
    run_client([&]() -> awaitable<void> {
        auto phone = co_await signed_in(server.port(), token_for("alice"));
        auto laptop = co_await signed_in(server.port(), token_for("alice"));
        auto bob = co_await signed_in(server.port(), token_for("bob"));

        auto backend = co_await raw_connection::connect(server.port());
        std::string const body = R"({"user":"alice"})";
        co_await backend.write("POST /api/disconnect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + options.api_key +
                               "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\n\r\n" + body);
        auto const reply = co_await backend.read_http();
        EXPECT_EQ(reply.status, 200u);
        EXPECT_EQ(reply.body, R"({"disconnected":2})");
        for (auto* c : {&phone, &laptop}) {
            auto const end = co_await c->receive_close();
            EXPECT_EQ(end.close_code, protocol::close_codes::disconnected);
        }
        co_await still_open(bob, 2);
    });
}

}  // namespace
}  // namespace coropush::testing
