// A job's messages as the JSON dialect writes them (jobs_feature::json_job_wire): each event is the
// codec's envelope of its struct; a topic hears it as a message whose data is that envelope; and
// the event cut around its seq, for a store that numbers events itself (Redis), gives exactly
// that envelope back with any seq.
#include "jobs/feature/json_job_wire.hpp"

#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace coropush {
namespace {

constexpr char a_job[] = "0123456789abcdef0123456789abcdef";

template <class Event>
void expect_cut_around_seq(jobs::job_wire const& wire, Event event)
{
    auto const parts = wire.event_around_seq(event);
    for (std::uint64_t seq : {1u, 9u, 10u, 12345678u}) {
        event.seq = seq;
        EXPECT_EQ(parts.before + std::to_string(seq) + parts.after, protocol::encode(event)) << seq;
    }
}

TEST(json_job_wire, every_event_cut_around_its_seq_gives_the_codecs_envelope_back)
{
    jobs_feature::json_job_wire const wire;
    // Texts and data that hold "seq":0 themselves: only the field is cut.
    expect_cut_around_seq(
        wire, protocol::job_progress{a_job, 0, 40, R"("seq":0)", boost::json::parse(R"({"seq":0,"rows":[1,2]})")});
    expect_cut_around_seq(wire, protocol::job_progress{a_job, 0, 0, "", std::nullopt});
    expect_cut_around_seq(wire, protocol::job_done{a_job, 0, R"({"seq":0})"});
    expect_cut_around_seq(wire, protocol::job_failed{a_job, 0, "abandoned: no word from the backend for 300000 ms"});
}

TEST(json_job_wire, a_watcher_gets_each_event_as_the_codecs_envelope)
{
    jobs_feature::json_job_wire const wire;
    protocol::job_progress const progress{a_job, 2, 50, "half", boost::json::parse(R"({"rows":3})")};
    EXPECT_EQ(*wire.event(progress), protocol::encode(progress));
    protocol::job_failed const failed{a_job, 3, "no"};
    EXPECT_EQ(*wire.event(failed), protocol::encode(failed));
}

TEST(json_job_wire, a_topic_hears_an_event_as_a_message_whose_data_is_the_events_envelope)
{
    jobs_feature::json_job_wire const wire;
    protocol::job_done const done{a_job, 3, "ok"};
    auto const message = wire.topic_message("user:alice", done);
    EXPECT_EQ(boost::json::parse(*message),
              boost::json::parse(R"({"type":"message","data":{"topic":"user:alice","data":)" + protocol::encode(done) +
                                 "}}"));
    protocol::job_started const started{a_job, "backend", std::nullopt, "export"};
    EXPECT_EQ(
        boost::json::parse(*wire.topic_message("t", started)),
        boost::json::parse(R"({"type":"message","data":{"topic":"t","data":)" + protocol::encode(started) + "}}"));
}

TEST(json_job_wire, answers_carry_the_requests_id)
{
    jobs_feature::json_job_wire const wire;
    EXPECT_EQ(*wire.resumed(protocol::job_resumed{a_job, 4, true}, 7),
              protocol::encode(protocol::job_resumed{a_job, 4, true}, 7));
    EXPECT_EQ(*wire.cancelling(protocol::job_cancelling{a_job}, 8),
              protocol::encode(protocol::job_cancelling{a_job}, 8));
    EXPECT_EQ(*wire.error(9, protocol::errc::job_finished, "ended"),
              protocol::encode_error(9, protocol::errc::job_finished, "ended"));
}

}  // namespace
}  // namespace coropush
