// Jobs that a backend runs: the server API creates them, reports their progress and their one
// final event, and reads their state; browsers watch, resume and cancel them like any job
// (job_resume, job_cancel). This is the seam between the API and where such jobs live: this
// node's job_manager (one node), or Redis (--backplane: every node sees every job).
#pragma once

#include "core/outbound.hpp"
#include "protocol/errc.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace coropush::jobs {

// How a job's events reach a topic's subscribers on every node (the topic hub's publish).
using topic_publisher = std::function<void(std::string const& topic, shared_payload const& envelope)>;

// Why a job request was not carried out: an error code of the protocol (unknown_job,
// job_finished, forbidden, too_many_jobs, bad_data, shutting_down, backplane_unavailable) and a
// message for people.
struct job_refusal {
    protocol::errc code;
    std::string message;
};

struct backend_job_spec {
    std::string label;
    std::string user;   // the `sub` the job belongs to; "": anyone's who knows its id
    std::string topic;  // every event also goes to this topic's subscribers; "": none
};

// What a backend reports about its job: progress, or the job's one final event.
struct backend_report {
    enum class kind { progress, done, failed };
    kind what = kind::progress;
    std::uint32_t percent = 0;               // progress: 0 to 100, never lower than the last
    std::string text;                        // the progress message, the result, or the reason
    std::optional<boost::json::value> data;  // progress: anything the page should get with it
};

enum class job_state { running, done, failed };

// A backend job as GET /api/jobs/{id} shows it (and as a report leaves it).
struct backend_job_status {
    std::string job;
    std::string label;
    std::string user;
    std::string topic;
    job_state state = job_state::running;
    std::uint32_t percent = 0;
    std::uint64_t seq = 0;  // the job's last event (0: none yet)
    bool cancel_requested = false;
};

// Where backend jobs live. Each call may wait (for another strand, or for Redis), so each is a
// coroutine; a refusal is a value, not an exception.
class backend_jobs {
public:
    virtual ~backend_jobs() = default;

    // A new running job; its id (32 hex digits).
    virtual boost::asio::awaitable<std::variant<std::string, job_refusal>> create(backend_job_spec spec) = 0;

    // Applies a report to a running job, atomically: the next seq, the percent never lower, at
    // most one final event. Answers with the job's state after it (`seq` is the report's).
    virtual boost::asio::awaitable<std::variant<backend_job_status, job_refusal>> report(std::string job_id,
                                                                                         backend_report update) = 0;

    // The job's state. Like a report, it counts as word from the backend (see --job-retention).
    virtual boost::asio::awaitable<std::variant<backend_job_status, job_refusal>> status(std::string job_id) = 0;
};

// Jobs kept outside this process (in Redis, with --backplane), as browsers use them: the job
// manager hands it what it does not know itself. Each answer, a refusal included (as an error
// envelope with the request's id), goes through the push_target, later.
class remote_jobs {
public:
    virtual ~remote_jobs() = default;
    virtual void resume(std::string job_id, std::string user, std::uint64_t after_seq,
                        std::shared_ptr<push_target> watcher, std::optional<std::uint64_t> request_id) = 0;
    virtual void cancel(std::string job_id, std::string user, std::shared_ptr<push_target> requester,
                        std::optional<std::uint64_t> request_id) = 0;
    virtual void unwatch(std::string job_id, std::uint64_t watcher_id) = 0;
};

// True for what new_job_id makes: 32 lower-case hex digits (anything else is no job's id).
bool well_formed_job_id(std::string_view id) noexcept;

// The message of an unknown_job error about `id`: "no job ID"; for what is not a job id, no echo
// of it (a client's string of any length, back in the error).
std::string no_job_message(std::string_view id);

}  // namespace coropush::jobs
