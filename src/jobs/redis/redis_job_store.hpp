// Jobs run by a backend, kept in Redis so that every node serves them (--backplane): a backend's
// call may reach one node and a browser's connection another, behind a load balancer.
//
// Each job is a hash NAMESPACE:job:ID (label, user, topic, state, percent, seq, cancel, and the
// deadline of its backend's silence) and a stream NAMESPACE:job:ID:events (the last --job-history
// events, entry id 0-SEQ, field `e` the event's envelope), both expiring with --job-retention,
// and an entry in the sorted set NAMESPACE:jobs (for --max-jobs). Every change is one Lua script
// (EVAL): the next seq, the percent that never goes down, the one final event, the owner check
// and the lazy failure of a silent backend's job are atomic across nodes, and the script
// PUBLISHes each event on the job's channel NAMESPACE:job:ID.
//
// A node with browsers watching a job subscribes to its channel; a resume waits for that
// subscription, then reads the stream after the browser's seq (XRANGE), then delivers the live
// events with a higher seq: nothing lost, nothing twice. When the subscriber connection comes
// back after a loss, each watcher is caught up the same way from the last seq it got. See
// docs/scaling.md, "Jobs across nodes".
#pragma once

#include "core/metrics.hpp"
#include "jobs/backend_jobs.hpp"
#include "jobs/job_manager.hpp"
#include "jobs/job_wire.hpp"

#include <memory>

namespace coropush::pubsub {
class redis_backplane;
}

namespace coropush::jobstore {

class redis_job_store final : public jobs::backend_jobs, public jobs::remote_jobs {
public:
    // `link` must outlive the store's use (the server's shutdown stops both); `wire` (which
    // outlives the store) writes the jobs' messages; `publish` reaches a topic's subscribers on
    // every node.
    redis_job_store(pubsub::redis_backplane& link, jobs::job_wire const& wire, jobs::job_limits limits, metrics& stats,
                    jobs::topic_publisher publish);
    ~redis_job_store() override;
    redis_job_store(redis_job_store const&) = delete;
    redis_job_store& operator=(redis_job_store const&) = delete;

    // Stop: no new work, watchers dropped, the silence timers cancelled.
    void shutdown();

    boost::asio::awaitable<std::variant<std::string, jobs::job_refusal>> create(jobs::backend_job_spec spec) override;
    boost::asio::awaitable<std::variant<jobs::backend_job_status, jobs::job_refusal>>
    report(std::string job_id, jobs::backend_report update) override;
    boost::asio::awaitable<std::variant<jobs::backend_job_status, jobs::job_refusal>>
    status(std::string job_id) override;

    void resume(std::string job_id, std::string user, std::uint64_t after_seq, std::shared_ptr<push_target> watcher,
                std::optional<std::uint64_t> request_id) override;
    void cancel(std::string job_id, std::string user, std::shared_ptr<push_target> requester,
                std::optional<std::uint64_t> request_id) override;
    void unwatch(std::string job_id, std::uint64_t watcher_id) override;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace coropush::jobstore
