// Job table, limits, the job runner coroutine and retention.
#include "jobs/job_manager.hpp"

#include "core/log.hpp"
#include "jobs/job.hpp"
#include "protocol/errc.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <exception>
#include <stdexcept>

namespace coropush::jobs {
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

bool well_formed_job_id(std::string_view id) noexcept
{
    return id.size() == 32 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool well_formed_job_key(std::string_view key) noexcept
{
    return key.size() >= 16 && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                      c == '_';
           });
}

std::string no_job_message(std::string_view id)
{
    if (well_formed_job_id(id))
        return "no job " + std::string(id);
    return "no job: not a job id (32 lower-case hex digits)";
}

namespace {

// A backend's report and a status read, run on the job's strand (see job_manager::report).
asio::awaitable<std::variant<backend_job_status, job_refusal>> report_on_strand(std::shared_ptr<job> j,
                                                                                backend_report update)
{
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.Move): moved once; the analyzer does not model coroutine frames
    co_return j->report(std::move(update));
}

asio::awaitable<std::variant<backend_job_status, job_refusal>> status_on_strand(std::shared_ptr<job> j)
{
    co_return j->status();
}

}  // namespace

job_manager::job_manager(asio::any_io_executor io, job_wire const& wire, job_limits limits, metrics& stats,
                         topic_publisher publish)
    : io_(std::move(io)),
      wire_(wire),
      limits_(limits),
      stats_(stats),
      publish_(std::move(publish))
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

bool job_manager::make_room_locked(bool backend)
{
    if (kept_[backend ? 1 : 0] < limits_.total)
        return true;
    // Full: a finished job of the same pool makes room early (its retention is a courtesy, not a
    // promise): the one that ended first, the nearest to being forgotten anyway, not one that
    // has just ended and whose client may be about to resume it. Browsers' jobs and the
    // backend's are kept apart, so neither crowds out the other.
    auto oldest = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        auto const ended = it->second->finished_at();
        if (ended != 0 && it->second->run_by_backend() == backend &&
            (oldest == jobs_.end() || ended < oldest->second->finished_at()))
            oldest = it;
    }
    if (oldest == jobs_.end())
        return false;
    asio::post(oldest->second->get_executor(), [j = oldest->second] { j->interrupt(); });
    erase_locked(oldest);
    return true;
}

void job_manager::keep_locked(std::shared_ptr<job> j)
{
    ++kept_[j->run_by_backend() ? 1 : 0];
    if (!j->spec().key.empty())
        keyed_.emplace(std::pair(j->user(), j->spec().key), j);
    auto id = j->id();
    jobs_.emplace(std::move(id), std::move(j));
}

void job_manager::erase_locked(std::unordered_map<std::string, std::shared_ptr<job>>::iterator it)
{
    --kept_[it->second->run_by_backend() ? 1 : 0];
    if (auto const& key = it->second->spec().key; !key.empty())
        keyed_.erase(std::pair(it->second->user(), key));
    jobs_.erase(it);
}

std::variant<std::string, started_before, job_refusal>
job_manager::start(job_spec spec, std::shared_ptr<push_target> starter, std::string user)
{
    auto const kind = kinds_.find(spec.kind);
    if (kind == kinds_.end())
        return job_refusal{protocol::errc::bad_data, "no job kind \"" + spec.kind + "\""};

    std::shared_ptr<job> j;
    {
        std::lock_guard lock(mutex_);
        if (shutting_down_)
            return job_refusal{protocol::errc::shutting_down, "the server is shutting down"};
        if (!spec.key.empty()) {
            if (auto const it = keyed_.find(std::pair(user, spec.key)); it != keyed_.end()) {
                // Asked again (the client lost the first answer): the same job, watched anew.
                auto const& again = it->second;
                asio::post(again->get_executor(), [again, starter = std::move(starter)]() mutable {
                    again->watch_from(std::move(starter), 0);
                });
                return started_before{again->id(), again->spec()};
            }
        }
        auto& running = running_per_connection_[starter->id()];
        if (running >= limits_.per_connection)
            return job_refusal{protocol::errc::too_many_jobs,
                               "at most " + std::to_string(limits_.per_connection) + " running jobs per connection"};
        if (!make_room_locked(false))
            return job_refusal{protocol::errc::too_many_jobs, "the server is running as many jobs as it can"};
        ++running;
        j = std::make_shared<job>(asio::make_strand(io_), wire_, new_job_id(), next_key_++, starter->id(),
                                  std::move(user), std::move(spec), limits_.history);
        keep_locked(j);
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
    co_await wind_down(std::move(j), std::move(outcome));
}

// A backend job has no body: it waits for the backend's final report, or for its silence.
asio::awaitable<void> job_manager::run_for_backend(std::shared_ptr<job> j)
{
    auto self = shared_from_this();
    auto outcome = co_await j->await_backend(limits_.retention);
    if (j->abandoned())
        stats_.backend_jobs_abandoned.fetch_add(1, std::memory_order_relaxed);
    co_await wind_down(std::move(j), std::move(outcome));
}

// After a job's final event: counters, its connection's running count, retention, forgetting.
asio::awaitable<void> job_manager::wind_down(std::shared_ptr<job> j, job_outcome outcome)
{
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
    if (auto const it = jobs_.find(job_id); it != jobs_.end())
        erase_locked(it);
}

std::shared_ptr<job> job_manager::find(std::string const& job_id) const
{
    std::lock_guard lock(mutex_);
    auto const it = jobs_.find(job_id);
    return it == jobs_.end() ? nullptr : it->second;
}

std::shared_ptr<job> job_manager::find_backend_job(std::string const& job_id) const
{
    auto j = find(job_id);
    return j && j->run_by_backend() ? j : nullptr;
}

std::variant<std::shared_ptr<job>, job_refusal> job_manager::find_for(std::string const& job_id,
                                                                      std::string_view user) const
{
    auto j = find(job_id);
    if (!j)
        return job_refusal{protocol::errc::unknown_job, no_job_message(job_id)};
    if (limits_.owners_only && !j->user().empty() && j->user() != user)
        return job_refusal{protocol::errc::forbidden, "job " + job_id + " belongs to another user"};
    return j;
}

std::optional<job_refusal> job_manager::cancel(std::string const& job_id, std::string_view user,
                                               std::shared_ptr<push_target> requester, protocol::request_id id)
{
    if (elsewhere_ && !find(job_id)) {
        elsewhere_->cancel(job_id, std::string(user), std::move(requester), id);
        return std::nullopt;
    }
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
    if (elsewhere_ && !find(job_id)) {
        elsewhere_->resume(job_id, std::string(user), after_seq, std::move(watcher), id);
        return std::nullopt;
    }
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
    else if (elsewhere_)
        elsewhere_->unwatch(job_id, watcher_id);
}

asio::awaitable<std::variant<std::string, job_refusal>> job_manager::create(backend_job_spec spec)
{
    std::shared_ptr<job> j;
    {
        std::lock_guard lock(mutex_);
        if (shutting_down_)
            co_return job_refusal{protocol::errc::shutting_down, "the server is shutting down"};
        if (!make_room_locked(true))
            co_return job_refusal{protocol::errc::too_many_jobs, "the server is keeping as many jobs as it can"};
        job_spec kind{"backend", 0, {}, std::move(spec.label), {}};
        j = std::make_shared<job>(asio::make_strand(io_), wire_, new_job_id(), next_key_++, std::move(spec.user),
                                  std::move(kind), limits_.history, std::move(spec.topic), publish_);
        keep_locked(j);
    }
    stats_.jobs_started.fetch_add(1, std::memory_order_relaxed);
    stats_.jobs_running.fetch_add(1, std::memory_order_relaxed);
    stats_.backend_jobs_created.fetch_add(1, std::memory_order_relaxed);
    // Findable before the topic hears of it, so a page that resumes at once finds it.
    j->announce();
    asio::co_spawn(j->get_executor(), run_for_backend(j), log_exceptions("job " + j->id()));
    co_return j->id();
}

asio::awaitable<std::variant<backend_job_status, job_refusal>> job_manager::report(std::string job_id,
                                                                                   backend_report update)
{
    auto j = find_backend_job(job_id);
    if (!j)
        co_return job_refusal{protocol::errc::unknown_job, no_job_message(job_id)};
    // The job's state belongs to its strand: the report runs there, and the answer comes back.
    auto on_strand = report_on_strand(j, std::move(update));
    co_return co_await asio::co_spawn(j->get_executor(), std::move(on_strand), asio::use_awaitable);
}

asio::awaitable<std::variant<backend_job_status, job_refusal>> job_manager::status(std::string job_id)
{
    auto j = find_backend_job(job_id);
    if (!j)
        co_return job_refusal{protocol::errc::unknown_job, no_job_message(job_id)};
    auto on_strand = status_on_strand(j);
    co_return co_await asio::co_spawn(j->get_executor(), std::move(on_strand), asio::use_awaitable);
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

}  // namespace coropush::jobs
