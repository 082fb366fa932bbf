// A job's events as its topic hears them, and cut around their seq for a store that numbers them
// (Redis): the two parts and a seq must give exactly what the codec writes.
#include "jobs/job_events.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace coropush {
namespace {

constexpr char a_job[] = "0123456789abcdef0123456789abcdef";

template <class Event>
void expect_cut_around_seq(Event event)
{
    auto const parts = jobs::around_seq(event);
    for (std::uint64_t seq : {1u, 9u, 10u, 12345678u}) {
        event.seq = seq;
        EXPECT_EQ(parts.before + std::to_string(seq) + parts.after, protocol::encode(event)) << seq;
    }
}

TEST(job_events, every_event_cut_around_its_seq_gives_the_codecs_envelope_back)
{
    // Texts and data that hold "seq":0 themselves: only the field is cut.
    expect_cut_around_seq(
        protocol::job_progress{a_job, 0, 40, R"("seq":0)", boost::json::parse(R"({"seq":0,"rows":[1,2]})")});
    expect_cut_around_seq(protocol::job_progress{a_job, 0, 0, "", std::nullopt});
    expect_cut_around_seq(protocol::job_done{a_job, 0, R"({"seq":0})"});
    expect_cut_around_seq(protocol::job_failed{a_job, 0, "abandoned: no word from the backend for 300000 ms"});
}

TEST(job_events, a_topic_hears_an_event_as_a_message_whose_data_is_the_events_envelope)
{
    protocol::job_done const done{a_job, 3, "ok"};
    auto const message = jobs::job_topic_message("user:alice", done);
    EXPECT_EQ(boost::json::parse(*message),
              boost::json::parse(R"({"type":"message","data":{"topic":"user:alice","data":)" + protocol::encode(done) +
                                 "}}"));
}

}  // namespace
}  // namespace coropush
