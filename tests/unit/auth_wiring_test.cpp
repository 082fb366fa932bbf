// The pieces that put authentication into the server, tested without a socket: the table of
// sessions by user, the exposure warning, and the JSON dialect's rate limit and token gate.
#include "protocol/close_codes.hpp"
#include "server/server.hpp"
#include "service/json_dialect.hpp"
#include "service/json_extensions.hpp"
#include "service/user_sessions.hpp"
#include "topics/feature/topics_feature.hpp"
#include "topics/topic_hub.hpp"

#include <boost/asio/io_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coropush {
namespace {
using namespace std::chrono_literals;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::NiceMock;

struct session_stub : push_target {
    explicit session_stub(std::uint64_t i)
        : id_(i)
    {
    }
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_message) override { return true; }
    void close_websocket(std::uint16_t, std::string) override {}
    std::uint64_t id_;
};

TEST(user_sessions, lists_the_live_sessions_of_each_user_and_forgets_users_with_none)
{
    service::user_sessions table;
    auto const phone = std::make_shared<session_stub>(1);
    auto const laptop = std::make_shared<session_stub>(2);
    auto gone = std::make_shared<session_stub>(3);
    table.add("alice", phone);
    table.add("alice", laptop);
    table.add("bob", gone);
    EXPECT_EQ(table.of("alice").size(), 2u);
    EXPECT_EQ(table.users(), 2u);

    gone.reset();  // a session that ended without saying so is not handed out
    EXPECT_TRUE(table.of("bob").empty());

    table.remove("alice", 1);
    ASSERT_EQ(table.of("alice").size(), 1u);
    EXPECT_EQ(table.of("alice").front()->id(), 2u);
    table.remove("alice", 2);
    table.remove("bob", 3);
    EXPECT_EQ(table.users(), 0u);
    EXPECT_TRUE(table.of("carol").empty());
}

TEST(exposure_warning, is_given_beyond_loopback_with_auth_off_only)
{
    server_options options;
    EXPECT_FALSE(unauthenticated_exposure(options)) << "127.0.0.1";
    options.address = "::1";
    EXPECT_FALSE(unauthenticated_exposure(options));
    options.address = "0.0.0.0";
    auto const warning = unauthenticated_exposure(options);
    ASSERT_TRUE(warning);
    EXPECT_THAT(*warning, HasSubstr("--auth off"));
    EXPECT_THAT(*warning, HasSubstr("--auth required"));
    options.address = "192.0.2.10";
    EXPECT_TRUE(unauthenticated_exposure(options));
    options.auth = auth::auth_mode::optional;
    EXPECT_FALSE(unauthenticated_exposure(options));
}

class counting_outbox : public outbox {
public:
    std::uint64_t id() const noexcept override { return 9; }
    void send(outbound_message frame) override { sent.push_back(*frame.payload); }
    void send_after(std::chrono::steady_clock::duration, outbound_message) override {}
    MOCK_METHOD(void, close, (std::uint16_t code, std::string_view reason), (override));
    MOCK_METHOD(void, close_at,
                (std::chrono::steady_clock::time_point when, std::uint16_t code, std::string_view reason), (override));
    std::shared_ptr<push_target> target() override { return session; }

    std::vector<std::string> sent;
    std::shared_ptr<session_stub> session = std::make_shared<session_stub>(9);
};

service::json_extensions with_topics(topics::topic_hub& hub)
{
    service::json_extensions extensions;
    topics_feature::add_topic_messages(extensions, hub);
    return extensions;
}

class json_standing : public ::testing::Test {
protected:
    server_options options_;
    metrics stats_;
    service::demo_replies demo_{make_payload("{}"), "w", 1s};
    pubsub::in_process_backplane link_;
    topics::topic_hub hub_{stats_, link_};
    std::atomic<bool> draining_{false};
    auth::access_policy access_;
    service::user_sessions users_;
    service::json_extensions topics_ = with_topics(hub_);  // the topics' message types
    service::service_context services_{options_, stats_, demo_, draining_, access_, nullptr, users_, topics_};
    NiceMock<counting_outbox> out_;
};

TEST_F(json_standing, the_burst_passes_then_refusals_then_one_close)
{
    options_.rate_messages = 1;
    options_.rate_burst = 2;
    service::json_dialect dialect(out_, services_);
    EXPECT_CALL(out_, close(1008, "rate limit exceeded")).Times(1);
    for (int i = 0; i < 8; ++i)  // within a few microseconds: the bucket gains nothing meanwhile
        dialect.on_text(R"({"type":"echo","data":{"text":"x"}})");
    ASSERT_EQ(out_.sent.size(), 4u);  // two echoes, two refusals; the fifth message closes, the rest are dropped
    EXPECT_THAT(out_.sent[0], HasSubstr(R"("type":"echo")"));
    EXPECT_THAT(out_.sent[2], HasSubstr(R"("code":"rate_limited")"));
    EXPECT_EQ(stats_.rate_limit_closes.load(), 1u);
}

TEST_F(json_standing, under_auth_required_the_session_gets_a_deadline_and_requests_wait_for_a_token)
{
    access_.mode = auth::auth_mode::required;
    options_.handshake_timeout = 3s;
    auto const before = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point deadline{};
    EXPECT_CALL(out_, close_at(_, protocol::close_codes::authentication_required, "authentication required"))
        .WillOnce([&](auto when, auto, auto) { deadline = when; });
    service::json_dialect dialect(out_, services_);
    EXPECT_GE(deadline, before + 3s);
    EXPECT_LE(deadline, std::chrono::steady_clock::now() + 3s);

    dialect.on_text(R"({"type":"subscribe","id":4,"data":{"topic":"news"}})");
    ASSERT_EQ(out_.sent.size(), 1u);
    EXPECT_THAT(out_.sent[0], HasSubstr(R"("id":4,"data":{"code":"unauthorized")"));
    EXPECT_EQ(stats_.subscriptions.load(), 0);
}

}  // namespace
}  // namespace coropush
