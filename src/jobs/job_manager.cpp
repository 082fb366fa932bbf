// Job table, limits, the job runner coroutine and retention.
#include "jobs/job_manager.hpp"

#include "core/log.hpp"
#include "jobs/job.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <sys/random.h>

#include <array>
#include <exception>
#include <stdexcept>

namespace coropush {
namespace asio = boost::asio;

std::string new_job_id()
{
    std::array<unsigned char, 16> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        auto const n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0)
            throw std::runtime_error("getrandom failed");
        filled += static_cast<std::size_t>(n);
    }
    constexpr char digits[] = "0123456789abcdef";
    std::string id;
    for (auto b : bytes) {
        id += digits[b >> 4];
        id += digits[b & 0xf];
    }
    return id;
}

job_manager::job_manager(asio::any_io_executor io, job_limits limits, metrics& stats)
    : io_(std::move(io)),
      limits_(limits),
      stats_(stats)
{
    add_kind("sample", sample_job());
    add_kind("failing", failing_job());
}

job_manager::~job_manager() = default;

void job_manager::add_kind(std::string name, job_body body)
{
    kinds_[std::move(name)] = std::move(body);
}

bool job_manager::has_kind(std::string const& name) const
{
    return kinds_.contains(name);
}

bool job_manager::make_room_locked()
{
    if (jobs_.size() < limits_.total)
        return true;
    // Full: a finished job makes room early (its retention is a courtesy, not a promise).
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        if (it->second->finished()) {
            asio::post(it->second->get_executor(), [j = it->second] { j->interrupt(); });
            jobs_.erase(it);
            return true;
        }
    }
    return false;
}

std::variant<std::string, job_refusal> job_manager::start(job_spec spec, std::shared_ptr<push_target> starter,
                                                          std::string user)
{
    auto const kind = kinds_.find(spec.kind);
    if (kind == kinds_.end())
        return job_refusal{protocol::errc::bad_data, "no job kind \"" + spec.kind + "\""};

    std::shared_ptr<job> j;
    {
        std::lock_guard lock(mutex_);
        if (shutting_down_)
            return job_refusal{protocol::errc::shutting_down, "the server is shutting down"};
        auto& running = running_per_connection_[starter->id()];
        if (running >= limits_.per_connection)
            return job_refusal{protocol::errc::too_many_jobs,
                               "at most " + std::to_string(limits_.per_connection) + " running jobs per connection"};
        if (!make_room_locked())
            return job_refusal{protocol::errc::too_many_jobs, "the server is running as many jobs as it can"};
        ++running;
        j = std::make_shared<job>(asio::make_strand(io_), new_job_id(), next_key_++, starter->id(), std::move(user),
                                  std::move(spec), limits_.history);
        jobs_.emplace(j->id(), j);
    }
    j->add_watcher(std::move(starter));  // not yet running: no other strand touches it
    stats_.jobs_started.fetch_add(1, std::memory_order_relaxed);
    stats_.jobs_running.fetch_add(1, std::memory_order_relaxed);

    // The job is a coroutine owned by the server: nothing here refers to the starting connection
    // except as one watcher among others.
    asio::co_spawn(j->get_executor(), run(j, kind->second), log_exceptions("job " + j->id()));
    return j->id();
}

asio::awaitable<void> job_manager::run(std::shared_ptr<job> j, job_body body)
{
    auto self = shared_from_this();  // the table outlives every job coroutine
    job_outcome outcome;
    try {
        outcome = co_await body(*j, j->spec());
    } catch (std::exception const& e) {
        log_error(0, "job ", j->id(), " threw: ", e.what());
        outcome = {false, "internal error"};
    }
    j->finish(outcome);
    log_info(0, "job ", j->id(), (outcome.succeeded ? " done: " : " failed: "), outcome.text);
    stats_.jobs_running.fetch_sub(1, std::memory_order_relaxed);
    stats_.jobs_finished.fetch_add(1, std::memory_order_relaxed);
    {
        std::lock_guard lock(mutex_);
        if (auto it = running_per_connection_.find(j->owner()); it != running_per_connection_.end())
            if (--it->second == 0)
                running_per_connection_.erase(it);
    }
    co_await j->retain(limits_.retention);
    forget(j->id());
}

void job_manager::forget(std::string const& job_id)
{
    std::lock_guard lock(mutex_);
    jobs_.erase(job_id);
}

std::shared_ptr<job> job_manager::find(std::string const& job_id) const
{
    std::lock_guard lock(mutex_);
    auto const it = jobs_.find(job_id);
    return it == jobs_.end() ? nullptr : it->second;
}

std::variant<std::shared_ptr<job>, job_refusal> job_manager::find_for(std::string const& job_id,
                                                                      std::string_view user) const
{
    auto j = find(job_id);
    if (!j)
        return job_refusal{protocol::errc::unknown_job, "no job " + job_id};
    if (!j->user().empty() && j->user() != user)
        return job_refusal{protocol::errc::forbidden, "job " + job_id + " belongs to another user"};
    return j;
}

std::optional<job_refusal> job_manager::cancel(std::string const& job_id, std::string_view user,
                                               std::shared_ptr<push_target> requester, protocol::request_id id)
{
    auto found = find_for(job_id, user);
    if (auto* refusal = std::get_if<job_refusal>(&found))
        return std::move(*refusal);
    auto j = std::get<std::shared_ptr<job>>(std::move(found));
    asio::dispatch(j->get_executor(), [j, requester = std::move(requester), id] { j->cancel(requester, id); });
    return std::nullopt;
}

std::optional<job_refusal> job_manager::resume(std::string const& job_id, std::string_view user,
                                               std::uint64_t after_seq, std::shared_ptr<push_target> watcher,
                                               protocol::request_id id)
{
    auto found = find_for(job_id, user);
    if (auto* refusal = std::get_if<job_refusal>(&found))
        return std::move(*refusal);
    auto j = std::get<std::shared_ptr<job>>(std::move(found));
    asio::dispatch(j->get_executor(), [j, watcher = std::move(watcher), after_seq, id]() mutable {
        j->watch(std::move(watcher), after_seq, id);
    });
    return std::nullopt;
}

void job_manager::unwatch(std::string const& job_id, std::uint64_t watcher_id)
{
    if (auto j = find(job_id))
        asio::dispatch(j->get_executor(), [j, watcher_id] { j->unwatch(watcher_id); });
}

void job_manager::shutdown()
{
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    for (auto const& entry : jobs_)
        asio::post(entry.second->get_executor(), [j = entry.second] { j->interrupt(); });
}

std::size_t job_manager::size() const
{
    std::lock_guard lock(mutex_);
    return jobs_.size();
}

}  // namespace coropush
