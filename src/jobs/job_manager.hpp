// The server's jobs: starting them (within limits), finding them again by id, cancelling them,
// and forgetting them once their retention time has passed. Thread-safe (one mutex around the
// table); each job runs on its own strand. It also keeps the jobs a backend runs through the
// server API, when they live in this process (no backplane): see backend_jobs.hpp.
#pragma once

#include "core/metrics.hpp"
#include "core/outbound.hpp"
#include "jobs/backend_jobs.hpp"
#include "jobs/job_kind.hpp"
#include "jobs/job_wire.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

namespace coropush::jobs {

class job;

// What start() answers for a job_start whose key names a job the manager still keeps for the
// same user: that job's id and spec. Nothing new started; the starter watches that job from its
// first kept event.
struct started_before {
    std::string job_id;
    job_spec spec;
};

struct job_limits {
    unsigned per_connection = 4;  // running jobs one connection may have started
    // Jobs kept at once, running or retained: browsers' jobs up to this many, and the backend's
    // as many again (two pools, so that neither crowds out the other).
    unsigned total = 1000;
    // How long a finished job can still be resumed; and how long a backend job may go without a
    // word from its backend before it is failed as abandoned.
    std::chrono::steady_clock::duration retention = std::chrono::minutes(5);
    std::size_t history = 64;  // events kept per job for resuming clients
    // --auth optional|required: a job that belongs to a user may be resumed and cancelled by that
    // user only. Off (--auth off): by anyone who knows its id.
    bool owners_only = true;
};

class job_manager final : public backend_jobs, public std::enable_shared_from_this<job_manager> {
public:
    // `wire` (which outlives the manager) writes the jobs' messages; `publish` reaches a topic's
    // subscribers: where a backend job with a topic sends its events.
    job_manager(boost::asio::any_io_executor io, job_wire const& wire, job_limits limits, metrics& stats,
                topic_publisher publish = {});
    ~job_manager() override;
    job_manager(job_manager const&) = delete;
    job_manager& operator=(job_manager const&) = delete;

    void add_kind(std::string name, job_body body);
    bool has_kind(std::string const& name) const;

    // Starts a job for `starter`, which watches it from the start, on behalf of `user` (the
    // starter's authenticated user, or "" for nobody in particular). Returns the new job's id.
    // When `spec.key` names a job kept for `user` (started with that key, running or retained),
    // starts nothing and counts against no limit: `starter` watches that job from its first kept
    // event, from the job's strand (through the connection's own, so after what the caller
    // sends it now: its answer).
    std::variant<std::string, started_before, job_refusal> start(job_spec spec, std::shared_ptr<push_target> starter,
                                                                 std::string user = {});

    // These answer through `requester`, from the job's strand (job_cancelling / job_resumed and
    // the replay), so the answer is ordered with the job's own events. A refusal is returned
    // instead when there is no such job, or when it belongs to a user other than `user` (a job
    // started by nobody in particular is anyone's who knows its id).
    std::optional<job_refusal> cancel(std::string const& job_id, std::string_view user,
                                      std::shared_ptr<push_target> requester, protocol::request_id id);
    std::optional<job_refusal> resume(std::string const& job_id, std::string_view user, std::uint64_t after_seq,
                                      std::shared_ptr<push_target> watcher, protocol::request_id id);

    // A connection has ended: it stops watching the job (which goes on).
    void unwatch(std::string const& job_id, std::uint64_t watcher_id);

    // Where the jobs this process does not hold live (Redis, with --backplane): a resume, a
    // cancel or an unwatch of a job unknown here goes there. Set once, before serving.
    void share_with(remote_jobs* elsewhere) noexcept { elsewhere_ = elsewhere; }

    // backend_jobs: jobs a backend runs, kept here. Each counts against `total` (a pool apart
    // from the browsers' jobs), not against any connection's limit; each is failed as abandoned after `retention`
    // without a word.
    boost::asio::awaitable<std::variant<std::string, job_refusal>> create(backend_job_spec spec) override;
    boost::asio::awaitable<std::variant<backend_job_status, job_refusal>> report(std::string job_id,
                                                                                 backend_report update) override;
    boost::asio::awaitable<std::variant<backend_job_status, job_refusal>> status(std::string job_id) override;

    // Shutdown: refuse new jobs, cancel running ones, drop retained ones.
    void shutdown();

    std::size_t size() const;

private:
    boost::asio::awaitable<void> run(std::shared_ptr<job> j, job_body body);
    boost::asio::awaitable<void> run_for_backend(std::shared_ptr<job> j);
    boost::asio::awaitable<void> wind_down(std::shared_ptr<job> j, job_outcome outcome);
    void forget(std::string const& job_id);
    std::shared_ptr<job> find_backend_job(std::string const& job_id) const;
    std::shared_ptr<job> find(std::string const& job_id) const;
    std::variant<std::shared_ptr<job>, job_refusal> find_for(std::string const& job_id, std::string_view user) const;
    bool make_room_locked(bool backend);
    void keep_locked(std::shared_ptr<job> j);
    void erase_locked(std::unordered_map<std::string, std::shared_ptr<job>>::iterator it);

    boost::asio::any_io_executor io_;
    job_wire const& wire_;
    job_limits limits_;
    metrics& stats_;
    topic_publisher publish_;
    remote_jobs* elsewhere_ = nullptr;
    std::map<std::string, job_body, std::less<>> kinds_;

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<job>> jobs_;  // guarded by mutex_
    // The jobs started with a key, by (user, key), as long as jobs_ keeps them; guarded by mutex_.
    std::map<std::pair<std::string, std::string>, std::shared_ptr<job>> keyed_;
    std::array<std::size_t, 2> kept_{};  // jobs_ by pool: [0] browsers', [1] the backend's; guarded
    std::unordered_map<std::uint64_t, unsigned> running_per_connection_;  // guarded by mutex_
    std::uint64_t next_key_ = 1;                                          // guarded by mutex_
    bool shutting_down_ = false;                                          // guarded by mutex_
};

// A new unguessable job id: 128 bits from the OS's random source, as 32 hex digits.
std::string new_job_id();

// True for what job_start may carry as its key: 16 to 64 letters, digits, '-' or '_'.
bool well_formed_job_key(std::string_view key) noexcept;

}  // namespace coropush::jobs
