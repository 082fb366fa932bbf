// A job's events written for the two places they go besides its watchers: the job's topic (a
// topic message whose data is the event's envelope), and a store that numbers the events itself
// (Redis: the envelope around its seq, which the store's script fills in).
#pragma once

#include "core/outbound.hpp"
#include "protocol/codec.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace coropush::jobs {

// What a job's topic subscribers get for one of its events: a topic message whose data is the
// event's envelope, as a watcher of the job receives it (docs/protocol.md, "Jobs run by a backend").
template <class Event>
shared_payload job_topic_message(std::string const& topic, Event const& event)
{
    boost::json::object envelope;
    envelope["type"] = Event::type;
    envelope["data"] = protocol::to_data(event);
    return make_payload(
        protocol::encode(protocol::message{topic, std::nullopt, boost::json::value(std::move(envelope))}));
}

// An event's envelope in two parts, before and after its seq: before + std::to_string(seq) + after
// is protocol::encode(event) with that seq. (`seq` is written right after `job`, whose value is
// hex digits, so the first `"seq":` is the field.)
struct envelope_around_seq {
    std::string before;
    std::string after;
};

template <class Event>
envelope_around_seq around_seq(Event event)
{
    event.seq = 0;
    auto const text = protocol::encode(event);
    constexpr std::string_view field = "\"seq\":0";
    auto const at = text.find(field);
    return {text.substr(0, at + field.size() - 1), text.substr(at + field.size())};
}

}  // namespace coropush::jobs
