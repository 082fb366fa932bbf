// The dialects' message handling, through a GoogleMock of the outbox they answer through: what
// each request queues, what it schedules, and that bad input never closes the JSON dialect.
#include "demo/echo_dialect.hpp"
#include "demo/plain_dialect.hpp"
#include "jobs/feature/jobs_feature.hpp"
#include "jobs/feature/json_job_wire.hpp"
#include "jobs/job_manager.hpp"
#include "protocol/errc.hpp"
#include "service/json_dialect.hpp"
#include "service/json_extensions.hpp"
#include "service/user_sessions.hpp"
#include "topics/feature/topics_feature.hpp"
#include "topics/topic_hub.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/json/parse.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coropush {
namespace {
using namespace std::chrono_literals;
using ::testing::_;
using ::testing::Eq;
using ::testing::Field;
using ::testing::InSequence;
using ::testing::Pointee;
using ::testing::Return;

class mock_outbox : public outbox {
public:
    MOCK_METHOD(std::uint64_t, id, (), (const, noexcept, override));
    MOCK_METHOD(void, send, (outbound_message frame), (override));
    MOCK_METHOD(void, send_after, (std::chrono::steady_clock::duration delay, outbound_message frame), (override));
    MOCK_METHOD(void, close, (std::uint16_t code, std::string_view reason), (override));
    MOCK_METHOD(void, close_at,
                (std::chrono::steady_clock::time_point when, std::uint16_t code, std::string_view reason), (override));
    MOCK_METHOD(std::shared_ptr<push_target>, target, (), (override));
};

// A connection as the hub sees it, recording what it is pushed.
struct recording_target : push_target {
    explicit recording_target(std::uint64_t i)
        : id_(i)
    {
    }
    std::uint64_t id() const noexcept override { return id_; }
    bool push(outbound_message frame) override
    {
        frames.push_back(std::move(frame));
        return true;
    }
    void close_websocket(std::uint16_t code, std::string) override { disconnected_with = code; }
    std::uint64_t id_;
    std::uint16_t disconnected_with = 0;
    std::vector<outbound_message> frames;
};

auto text_is(std::string const& text)
{
    return Field(&outbound_message::payload, Pointee(text));
}

class dialects : public ::testing::Test {
protected:
    dialects()
    {
        options_.max_subscriptions = 2;
        demo_ =
            service::demo_replies{make_payload(R"({"type":"notice","data":{"text":"notice!"}})"), "welcome!", 1500ms};
        ON_CALL(out_, id()).WillByDefault(Return(7));
        topics_feature::add_topic_messages(json_messages_, hub_);
        jobs_feature::add_job_messages(json_messages_, *jobs_);
    }

    server_options options_;
    metrics stats_;
    service::demo_replies demo_;
    pubsub::in_process_backplane link_;
    topics::topic_hub hub_{stats_, link_};
    boost::asio::io_context io_;  // never run: these tests start no job
    jobs_feature::json_job_wire job_wire_;
    std::shared_ptr<jobs::job_manager> jobs_ =
        std::make_shared<jobs::job_manager>(io_.get_executor(), job_wire_, jobs::job_limits{}, stats_);
    std::atomic<bool> draining_{false};
    auth::access_policy access_;
    service::user_sessions users_;
    service::json_extensions json_messages_;  // the topics' and the jobs' message types (the constructor adds them)
    service::service_context services_{options_, stats_, demo_, draining_, access_, nullptr, users_, json_messages_};
    ::testing::NiceMock<mock_outbox> out_;
};

// Where each dialect is served, and which of them a hostile page must not reach.
TEST_F(dialects, endpoints_paths_subprotocols_limits_and_origin_checks)
{
    options_.max_message_bytes = 1000;
    options_.echo_max_message_bytes = 5000;
    options_.echo_path = "/echo";
    auto const json = service::json_endpoint(services_);
    auto const plain = demo::plain_endpoint(options_);
    auto const echo = demo::echo_endpoint(options_);
    EXPECT_EQ(json.paths, (std::vector<std::string>{"/", "/ws"}));
    EXPECT_EQ(json.subprotocol, "coropush.v1");
    EXPECT_EQ(json.max_message_bytes, 1000u);
    EXPECT_TRUE(json.check_origin) << "a page must not publish or subscribe with a visitor's browser";
    EXPECT_EQ(plain.paths, json.paths);
    EXPECT_EQ(plain.subprotocol, "");
    EXPECT_FALSE(plain.check_origin) << "the demo answers fixed texts: nothing to protect";
    EXPECT_EQ(echo.paths, std::vector<std::string>{"/echo"});
    EXPECT_EQ(echo.max_message_bytes, 5000u);
    EXPECT_FALSE(echo.check_origin) << "echo returns the client's own bytes";

    // Each makes its own handler, answering through the session's outbox.
    auto handler = plain.make_handler(out_);
    ASSERT_NE(dynamic_cast<demo::plain_dialect*>(handler.get()), nullptr);
    EXPECT_NE(dynamic_cast<service::json_dialect*>(json.make_handler(out_).get()), nullptr);
    EXPECT_NE(dynamic_cast<demo::echo_dialect*>(echo.make_handler(out_).get()), nullptr);
}

TEST_F(dialects, plain_text_gets_the_shared_welcome_now_and_the_notice_after_the_delay)
{
    demo::plain_replies const replies{make_payload("welcome!"), make_payload("notice!"), 1500ms};
    demo::plain_dialect plain(out_, replies);
    InSequence order;
    EXPECT_CALL(out_, send(Field(&outbound_message::payload, replies.welcome)));
    EXPECT_CALL(out_, send_after(std::chrono::steady_clock::duration(1500ms),
                                 Field(&outbound_message::payload, replies.notice)));
    plain.on_text("亲爱的服务器！我连上你啦！");
}

TEST_F(dialects, the_plain_endpoint_answers_every_session_with_the_configured_texts_serialized_once)
{
    options_.welcome_text = "hello from the options";
    options_.notice_text = "and a notice";
    options_.push_delay = 250ms;
    auto const plain = demo::plain_endpoint(options_);
    ::testing::NiceMock<mock_outbox> first;
    ::testing::NiceMock<mock_outbox> second;
    shared_payload welcome;
    shared_payload notice;
    EXPECT_CALL(first, send(_)).WillOnce([&](outbound_message const& m) { welcome = m.payload; });
    EXPECT_CALL(first, send_after(std::chrono::steady_clock::duration(250ms), _))
        .WillOnce([&](std::chrono::steady_clock::duration, outbound_message const& m) { notice = m.payload; });
    EXPECT_CALL(second, send(Field(&outbound_message::payload, Eq(std::cref(welcome)))));
    EXPECT_CALL(second, send_after(_, Field(&outbound_message::payload, Eq(std::cref(notice)))));
    plain.make_handler(first)->on_text("hi");
    ASSERT_TRUE(welcome && notice);
    EXPECT_EQ(*welcome, "hello from the options");
    EXPECT_EQ(*notice, "and a notice");
    plain.make_handler(second)->on_text("hi");  // the same payloads, not copies
}

TEST_F(dialects, plain_binary_is_closed_with_1003)
{
    demo::plain_replies const replies{make_payload("welcome!"), make_payload("notice!"), 1500ms};
    demo::plain_dialect plain(out_, replies);
    EXPECT_CALL(out_, send(_)).Times(0);
    EXPECT_CALL(out_, close(1003, _));
    plain.on_binary("\x01\x02");
}

TEST_F(dialects, json_hello_gets_welcome_with_its_id_then_the_shared_notice_after_the_delay)
{
    service::json_dialect json(out_, services_);
    InSequence order;
    EXPECT_CALL(out_, send(text_is(R"({"type":"welcome","id":5,"data":{"text":"welcome!"}})")));
    EXPECT_CALL(out_, send_after(std::chrono::steady_clock::duration(1500ms),
                                 Field(&outbound_message::payload, demo_.json_notice)));
    json.on_text(R"({"type":"hello","id":5,"data":{"text":"hi"}})");
}

TEST_F(dialects, json_echo_answers_with_the_same_id)
{
    service::json_dialect json(out_, services_);
    EXPECT_CALL(out_, send(text_is(R"({"type":"echo","id":9,"data":{"text":"x"}})")));
    json.on_text(R"({"type":"echo","id":9,"data":{"text":"x"}})");
}

TEST_F(dialects, json_bad_input_is_answered_with_an_error_envelope_never_a_close)
{
    service::json_dialect json(out_, services_);
    EXPECT_CALL(out_, close(_, _)).Times(0);
    EXPECT_CALL(
        out_,
        send(text_is(R"({"type":"error","data":{"code":"invalid_json","message":"not valid JSON: syntax error"}})")));
    EXPECT_CALL(out_, send(text_is(
                          R"({"type":"error","id":3,"data":{"code":"unknown_type","message":"unknown type \"x\""}})")));
    EXPECT_CALL(
        out_,
        send(text_is(
            R"({"type":"error","data":{"code":"binary_unsupported","message":"binary frames are not supported; send JSON text frames"}})")));
    json.on_text("{oops");
    json.on_text(R"({"type":"x","id":3})");
    json.on_binary("\x00");
    EXPECT_EQ(stats_.error_envelopes(protocol::errc::invalid_json), 1u);
    EXPECT_EQ(stats_.error_envelopes(protocol::errc::unknown_type), 1u);
    EXPECT_EQ(stats_.error_envelopes(protocol::errc::binary_unsupported), 1u);
}

TEST_F(dialects, json_subscribe_publish_and_cleanup_through_the_hub)
{
    auto self = std::make_shared<recording_target>(7);
    auto other = std::make_shared<recording_target>(8);
    hub_.subscribe("news", other);
    ON_CALL(out_, target()).WillByDefault(Return(self));

    service::json_dialect json(out_, services_);
    EXPECT_CALL(out_, send(text_is(R"({"type":"subscribed","id":1,"data":{"topic":"news"}})")));
    json.on_text(R"({"type":"subscribe","id":1,"data":{"topic":"news"}})");
    EXPECT_EQ(hub_.subscriber_count("news"), 2u);

    EXPECT_CALL(out_, send(text_is(R"({"type":"published","id":2,"data":{"topic":"news","delivered":2}})")));
    json.on_text(R"({"type":"publish","id":2,"data":{"topic":"news","text":"hello"}})");
    ASSERT_EQ(other->frames.size(), 1u);
    ASSERT_EQ(self->frames.size(), 1u);
    EXPECT_EQ(*other->frames[0].payload, R"({"type":"message","data":{"topic":"news","text":"hello"}})");
    EXPECT_EQ(other->frames[0].payload, self->frames[0].payload) << "one serialization shared by all subscribers";

    json.on_closed();
    EXPECT_EQ(hub_.subscriber_count("news"), 1u) << "closing drops this connection's subscriptions";
}

TEST_F(dialects, json_publish_carries_any_json_data_and_needs_text_or_data)
{
    auto other = std::make_shared<recording_target>(8);
    hub_.subscribe("prices", other);
    service::json_dialect json(out_, services_);
    EXPECT_CALL(out_, send(text_is(R"({"type":"published","id":1,"data":{"topic":"prices","delivered":1}})")));
    json.on_text(R"({"type":"publish","id":1,"data":{"topic":"prices","data":{"eur":[1.5,2],"open":true}}})");
    ASSERT_EQ(other->frames.size(), 1u);
    // The same JSON value (numbers may be spelled differently: Boost.JSON writes 1.5 as 1.5E0).
    EXPECT_EQ(boost::json::parse(*other->frames[0].payload),
              boost::json::parse(R"({"type":"message","data":{"topic":"prices","data":{"eur":[1.5,2],"open":true}}})"));

    EXPECT_CALL(
        out_,
        send(text_is(
            R"({"type":"error","id":2,"data":{"code":"bad_data","message":"data.text or data.data is required"}})")));
    json.on_text(R"({"type":"publish","id":2,"data":{"topic":"prices"}})");
    EXPECT_EQ(other->frames.size(), 1u) << "nothing published";
}

TEST_F(dialects, json_topic_validation_and_subscription_limit)
{
    auto self = std::make_shared<recording_target>(7);
    ON_CALL(out_, target()).WillByDefault(Return(self));
    service::json_dialect json(out_, services_);
    std::vector<std::string> sent;
    ON_CALL(out_, send(_)).WillByDefault([&](outbound_message const& f) { sent.push_back(*f.payload); });

    json.on_text(R"({"type":"subscribe","id":1,"data":{"topic":""}})");
    json.on_text(R"({"type":"subscribe","id":2,"data":{"topic":"has space"}})");
    json.on_text(R"({"type":"publish","id":3,"data":{"topic":")" + std::string(200, 'x') + R"(","text":"t"}})");
    json.on_text(R"({"type":"subscribe","id":4,"data":{"topic":"a"}})");
    json.on_text(R"({"type":"subscribe","id":5,"data":{"topic":"b"}})");
    json.on_text(R"({"type":"subscribe","id":6,"data":{"topic":"c"}})");
    json.on_text(R"({"type":"subscribe","id":7,"data":{"topic":"a"}})");
    json.on_text(R"({"type":"unsubscribe","id":8,"data":{"topic":"never"}})");

    ASSERT_EQ(sent.size(), 8u);
    EXPECT_NE(sent[0].find(R"("id":1,"data":{"code":"invalid_topic")"), std::string::npos) << sent[0];
    EXPECT_NE(sent[1].find(R"("code":"invalid_topic")"), std::string::npos);
    EXPECT_NE(sent[2].find(R"("code":"invalid_topic")"), std::string::npos);
    EXPECT_NE(sent[3].find(R"("type":"subscribed")"), std::string::npos);
    EXPECT_NE(sent[4].find(R"("type":"subscribed")"), std::string::npos);
    EXPECT_NE(sent[5].find(R"("code":"too_many_subscriptions")"), std::string::npos) << sent[5];
    EXPECT_NE(sent[6].find(R"("type":"subscribed")"), std::string::npos) << "re-subscribing is not a new one";
    EXPECT_EQ(sent[7], R"({"type":"unsubscribed","id":8,"data":{"topic":"never"}})");
}

TEST_F(dialects, json_job_requests_are_validated_before_a_job_starts)
{
    service::json_dialect json(out_, services_);
    std::vector<std::string> sent;
    ON_CALL(out_, send(_)).WillByDefault([&](outbound_message const& f) { sent.push_back(*f.payload); });
    json.on_text(R"({"type":"job_start","id":1,"data":{"steps":0}})");
    json.on_text(R"({"type":"job_start","id":2,"data":{"steps":100000}})");
    json.on_text(R"({"type":"job_start","id":3,"data":{"step_ms":60001}})");
    json.on_text(R"({"type":"job_start","id":4,"data":{"kind":"nope"}})");
    json.on_text(R"({"type":"job_cancel","id":5,"data":{"job":"0123"}})");
    json.on_text(R"({"type":"job_resume","id":6,"data":{"job":"0123","after_seq":0}})");
    draining_ = true;
    json.on_text(R"({"type":"job_start","id":7})");
    ASSERT_EQ(sent.size(), 7u);
    EXPECT_NE(sent[0].find(R"("code":"bad_data")"), std::string::npos) << sent[0];
    EXPECT_NE(sent[1].find(R"("code":"bad_data")"), std::string::npos) << sent[1];
    EXPECT_NE(sent[2].find(R"("code":"bad_data")"), std::string::npos) << sent[2];
    EXPECT_NE(sent[3].find(R"("code":"bad_data")"), std::string::npos) << sent[3];
    EXPECT_NE(sent[4].find(R"("code":"unknown_job")"), std::string::npos) << sent[4];
    EXPECT_NE(sent[5].find(R"("code":"unknown_job")"), std::string::npos) << sent[5];
    EXPECT_NE(sent[6].find(R"("code":"shutting_down")"), std::string::npos) << sent[6];
    EXPECT_EQ(jobs_->size(), 0u);
}

// What a feature adds to the dialect (service/json_extensions.hpp): its handler gets the typed
// request with its id, and its state for the connection is made once, on first use, and told
// when the connection closes.
TEST_F(dialects, a_feature_handles_its_message_types_and_keeps_state_per_connection)
{
    struct counted_state : service::connection_state {
        explicit counted_state(std::vector<std::string>& log)
            : log_(log)
        {
            log_.emplace_back("made");
        }
        void on_closed(service::json_dialect& connection) override
        {
            log_.push_back("closed " + std::to_string(connection.out().id()) + " after " + std::to_string(seen));
        }
        std::vector<std::string>& log_;
        int seen = 0;
    };
    std::vector<std::string> log;
    service::json_extensions extensions;
    auto const slot = extensions.add_state_slot();
    extensions.on<protocol::job_cancel>(
        [&, slot](service::json_dialect& connection, protocol::job_cancel const& request, protocol::request_id id) {
            auto& state = connection.state<counted_state>(slot, [&] { return std::make_unique<counted_state>(log); });
            ++state.seen;
            log.push_back("cancel " + request.job + " id " + std::to_string(id.value_or(0)));
            connection.reply(protocol::job_cancelling{request.job}, id);
        });
    service::service_context const services{options_, stats_, demo_, draining_, access_, nullptr, users_, extensions};
    service::json_dialect json(out_, services);
    std::vector<std::string> sent;
    ON_CALL(out_, send(_)).WillByDefault([&](outbound_message const& f) { sent.push_back(*f.payload); });
    json.on_text(R"({"type":"job_cancel","id":4,"data":{"job":"a"}})");
    json.on_text(R"({"type":"job_cancel","id":5,"data":{"job":"b"}})");
    json.on_text(R"({"type":"job_start","id":6})");  // a type nobody registered here
    json.on_closed();
    EXPECT_EQ(log, (std::vector<std::string>{"made", "cancel a id 4", "cancel b id 5", "closed 7 after 2"}));
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0], R"({"type":"job_cancelling","id":4,"data":{"job":"a"}})");
    EXPECT_EQ(sent[2],
              R"({"type":"error","id":6,"data":{"code":"unknown_type","message":"unknown type \"job_start\""}})");
}

// A feature's handler that must wait hands the session its coroutine, which the session awaits
// before the next read: here the test plays the session.
TEST_F(dialects, a_features_handler_can_await_before_it_answers)
{
    service::json_extensions extensions;
    extensions.on<protocol::job_cancel>(
        [](service::json_dialect& connection, protocol::job_cancel const& request, protocol::request_id id) {
            connection.await_before_next_read(
                [](service::json_dialect& c, std::string job, protocol::request_id i) -> boost::asio::awaitable<void> {
                    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
                    c.reply(protocol::job_cancelling{job}, i);
                }(connection, request.job, id));
        });
    service::service_context const services{options_, stats_, demo_, draining_, access_, nullptr, users_, extensions};
    service::json_dialect json(out_, services);
    std::vector<std::string> sent;
    ON_CALL(out_, send(_)).WillByDefault([&](outbound_message const& f) { sent.push_back(*f.payload); });
    json.on_text(R"({"type":"job_cancel","id":9,"data":{"job":"j"}})");
    EXPECT_TRUE(sent.empty()) << "nothing is answered before the work runs";
    auto work = json.take_awaited_work();
    ASSERT_TRUE(work.valid());
    boost::asio::io_context io;
    boost::asio::co_spawn(io, std::move(work), boost::asio::detached);
    io.run();
    EXPECT_EQ(sent, std::vector<std::string>{R"({"type":"job_cancelling","id":9,"data":{"job":"j"}})"});
}

// A server built without a feature (src/jobs/ or src/topics/ deleted) answers its messages as
// types it does not know, and keeps the connection.
TEST_F(dialects, a_request_of_a_feature_this_server_lacks_is_an_unknown_type)
{
    service::json_extensions none;
    service::service_context const services{options_, stats_, demo_, draining_, access_, nullptr, users_, none};
    service::json_dialect json(out_, services);
    std::vector<std::string> sent;
    ON_CALL(out_, send(_)).WillByDefault([&](outbound_message const& f) { sent.push_back(*f.payload); });
    EXPECT_CALL(out_, close(_, _)).Times(0);
    json.on_text(R"({"type":"job_start","id":1,"data":{"steps":3}})");
    json.on_text(R"({"type":"subscribe","id":2,"data":{"topic":"news"}})");
    json.on_text(R"({"type":"echo","id":3,"data":{"text":"still here"}})");
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(sent[0],
              R"({"type":"error","id":1,"data":{"code":"unknown_type","message":"unknown type \"job_start\""}})");
    EXPECT_EQ(sent[1],
              R"({"type":"error","id":2,"data":{"code":"unknown_type","message":"unknown type \"subscribe\""}})");
    EXPECT_EQ(sent[2], R"({"type":"echo","id":3,"data":{"text":"still here"}})");
    EXPECT_EQ(hub_.topic_count(), 0u);
}

}  // namespace
}  // namespace coropush
