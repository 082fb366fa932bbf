// How a job's messages are written for its clients: the dialect's business, not the job's. A job
// (and the Redis job store) builds typed events, the message structs of protocol/messages.hpp,
// and hands them to a job_wire, which writes each once; every watcher's queue then gets the same
// buffer. The jobs feature implements it for the JSON dialect (jobs/feature/json_job_wire.hpp) and
// gives it to the job manager and the job store: jobs/ and jobs/redis/ never see the codec.
#pragma once

#include "core/outbound.hpp"
#include "protocol/errc.hpp"
#include "protocol/messages.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace coropush::jobs {

// What a job tells its watchers, each numbered by its `seq`.
using job_event = std::variant<protocol::job_progress, protocol::job_done, protocol::job_failed>;
// What a job's topic hears: its events, and (a backend job) that it has started.
using job_topic_event =
    std::variant<protocol::job_started, protocol::job_progress, protocol::job_done, protocol::job_failed>;

// An event's text in two parts, before and after its seq: before + std::to_string(seq) + after
// is the event's text with that seq. For a store that numbers the events itself (Redis: its
// script writes the seq in).
struct envelope_around_seq {
    std::string before;
    std::string after;
};

class job_wire {
public:
    job_wire() = default;
    job_wire(job_wire const&) = delete;
    job_wire& operator=(job_wire const&) = delete;
    virtual ~job_wire() = default;

    // An event as its watchers get it.
    virtual shared_payload event(job_event const& e) const = 0;
    // The same, cut around its seq (whatever seq `e` has).
    virtual envelope_around_seq event_around_seq(job_event const& e) const = 0;
    // An event as the subscribers of the job's topic get it.
    virtual shared_payload topic_message(std::string const& topic, job_topic_event const& e) const = 0;
    // The answers to a client's resume and cancel, and a refusal; each carries the request's id.
    virtual shared_payload resumed(protocol::job_resumed const& answer, protocol::request_id id) const = 0;
    virtual shared_payload cancelling(protocol::job_cancelling const& answer, protocol::request_id id) const = 0;
    virtual shared_payload error(protocol::request_id id, protocol::errc code, std::string_view message) const = 0;
};

}  // namespace coropush::jobs
