// One job's record: its coroutine's context (or, for a job a backend runs, what the backend last
// reported), the events it has emitted (a bounded history, for clients that resume), and the
// connections watching it. Lives on its own strand; the job manager owns it, so it outlives the
// connection that started it.
#pragma once

#include "core/async.hpp"
#include "core/outbound.hpp"
#include "jobs/backend_jobs.hpp"
#include "jobs/job_kind.hpp"
#include "jobs/job_wire.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace coropush::jobs {

class job final : public job_context {
public:
    // The bytes of envelopes a job keeps for resuming clients, beside its count of events (the
    // latest event is kept whatever its size): a backend's events may each carry up to the API's
    // body limit.
    static constexpr std::size_t history_byte_budget = std::size_t{256} * 1024;

    // `wire` (which outlives the job) writes its messages.
    job(boost::asio::any_io_executor strand, job_wire const& wire, std::string id, std::uint64_t coalesce_key,
        std::uint64_t owner, std::string user, job_spec spec, std::size_t history_limit);
    // A job that a backend runs (through the server API): no body, `spec` holds its label; each
    // event also goes to `topic` (if not empty) through `publish`.
    job(boost::asio::any_io_executor strand, job_wire const& wire, std::string id, std::uint64_t coalesce_key,
        std::string user, job_spec spec, std::size_t history_limit, std::string topic, topic_publisher publish);

    boost::asio::any_io_executor const& get_executor() const noexcept { return strand_; }
    std::string const& id() const noexcept { return id_; }
    std::uint64_t owner() const noexcept { return owner_; }
    // The authenticated user who started it ("" when anonymous or under --auth off). Set once,
    // so any thread may read it.
    std::string const& user() const noexcept { return user_; }
    job_spec const& spec() const noexcept { return spec_; }
    bool finished() const noexcept { return finished_at() != 0; }
    // When it finished, in steady-clock ticks (0 while it runs): any thread may read it. The job
    // manager, full, forgets the finished job that ended first.
    std::chrono::steady_clock::rep finished_at() const noexcept { return finished_at_.load(std::memory_order_acquire); }
    bool run_by_backend() const noexcept { return backend_; }

    // job_context (called by the job's body, on the job's strand).
    void progress(std::uint32_t percent, std::string message) override;
    boost::asio::awaitable<bool> sleep(std::chrono::steady_clock::duration d) override;
    bool cancel_requested() const noexcept override { return cancel_requested_; }

    // The rest: on the job's strand only.
    void finish(job_outcome const& outcome);

    // A backend job's side (the server API). announce() tells the topic a job has started (any
    // thread: it reads only what never changes). report() applies progress or the final event;
    // status() reads the state; both count as word from the backend. await_backend() returns once
    // the final event is out: the backend's, or a failure when the backend has said nothing for
    // `silence` (abandoned), or when the server shuts down.
    void announce() const;
    std::variant<backend_job_status, job_refusal> report(backend_report update);
    backend_job_status status();
    boost::asio::awaitable<job_outcome> await_backend(std::chrono::steady_clock::duration silence);
    bool abandoned() const noexcept { return abandoned_; }
    // Sends job_resumed (with the request's id), then what watch_from sends, to `watcher`.
    void watch(std::shared_ptr<push_target> watcher, std::uint64_t after_seq, protocol::request_id id);
    // Sends the events after `after_seq` (or the latest one, if older ones are gone), then every
    // live event, to `watcher`.
    void watch_from(std::shared_ptr<push_target> watcher, std::uint64_t after_seq);
    void add_watcher(std::shared_ptr<push_target> watcher);
    void unwatch(std::uint64_t watcher_id);
    // Answers `requester` with job_cancelling (or job_finished) and stops the job at its next wait.
    void cancel(std::shared_ptr<push_target> const& requester, protocol::request_id id);
    // Wakes the job from any wait: used at shutdown (with cancel) and to cut its retention short.
    void interrupt();
    // After finishing: wait out the retention time (returns at once if interrupted).
    boost::asio::awaitable<void> retain(std::chrono::steady_clock::duration d);

private:
    void emit(job_event const& what);
    bool kept_after(std::uint64_t after_seq) const noexcept;
    backend_job_status snapshot() const;

    boost::asio::any_io_executor strand_;
    job_wire const& wire_;
    std::string id_;
    std::uint64_t coalesce_key_;
    std::uint64_t owner_;
    std::string user_;
    job_spec spec_;
    std::size_t history_limit_;
    bool backend_ = false;
    std::string topic_;
    topic_publisher publish_;

    struct event {
        std::uint64_t seq;
        shared_payload envelope;
    };
    std::deque<event> history_;
    std::size_t history_bytes_ = 0;  // of the envelopes in history_
    std::uint64_t last_seq_ = 0;
    std::uint32_t percent_ = 0;
    std::optional<job_outcome> outcome_;
    std::chrono::steady_clock::time_point last_word_ = std::chrono::steady_clock::now();
    bool abandoned_ = false;
    std::vector<std::shared_ptr<push_target>> watchers_;
    wake_signal wake_;  // cut short by cancel(), interrupt() and a backend's final report
    bool cancel_requested_ = false;
    bool interrupted_ = false;
    std::atomic<std::chrono::steady_clock::rep> finished_at_{0};
};

}  // namespace coropush::jobs
