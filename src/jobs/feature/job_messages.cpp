// The job messages of the coropush.v1 dialect: job_start, job_cancel, job_resume.
#include "jobs/feature/jobs_feature.hpp"

#include "jobs/job_manager.hpp"
#include "service/json_dialect.hpp"
#include "service/json_extensions.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace coropush::jobs_feature {
namespace {

// The jobs one connection watches: it stops watching them when it closes.
class watched_jobs final : public service::connection_state {
public:
    explicit watched_jobs(jobs::job_manager& manager)
        : manager_(manager)
    {
    }

    void add(std::string const& job_id) { ids_.insert(job_id); }

    void on_closed(service::json_dialect& connection) override
    {
        for (auto const& job_id : ids_)
            manager_.unwatch(job_id, connection.out().id());
        ids_.clear();
    }

private:
    jobs::job_manager& manager_;
    std::set<std::string> ids_;
};

void start_job(service::json_dialect& connection, jobs::job_manager& manager, std::size_t slot,
               protocol::job_start const& request, protocol::request_id id)
{
    auto const& services = connection.services();
    auto const& options = services.options;
    // A job runs on the server's time, so once tokens are in use it needs someone to answer for it.
    if (services.access.mode != auth::auth_mode::off && connection.identity() == nullptr) {
        connection.fail(id, protocol::errc::forbidden, "starting a job needs a token: send auth first");
        return;
    }
    jobs::job_spec spec;
    spec.kind = request.kind.value_or("sample");
    spec.steps = request.steps.value_or(std::min(10U, options.max_job_steps));  // a default within the limit
    spec.step_time = request.step_ms ? std::chrono::milliseconds(*request.step_ms) : options.job_step_time;
    spec.label = request.label.value_or("");
    spec.key = request.key.value_or("");
    if (spec.steps == 0 || spec.steps > options.max_job_steps) {
        connection.fail(id, protocol::errc::bad_data,
                        "data.steps must be 1 to " + std::to_string(options.max_job_steps));
        return;
    }
    if (request.step_ms && *request.step_ms > 60'000) {
        connection.fail(id, protocol::errc::bad_data, "data.step_ms must be at most 60000");
        return;
    }
    if (spec.label.size() > jobs::max_label_bytes) {
        connection.fail(id, protocol::errc::bad_data,
                        "data.label must be at most " + std::to_string(jobs::max_label_bytes) + " bytes");
        return;
    }
    if (request.key && !jobs::well_formed_job_key(*request.key)) {
        connection.fail(id, protocol::errc::bad_data, "data.key must be 16 to 64 letters, digits, '-' or '_'");
        return;
    }
    if (services.draining.load(std::memory_order_relaxed)) {
        connection.fail(id, protocol::errc::shutting_down, "the server is shutting down");
        return;
    }
    auto started = manager.start(spec, connection.out().target(), connection.user());
    if (auto const* refusal = std::get_if<jobs::job_refusal>(&started)) {
        connection.fail(id, refusal->code, refusal->message);
        return;
    }
    auto& watched = connection.state<watched_jobs>(slot, [&] { return std::make_unique<watched_jobs>(manager); });
    // The reply is queued now, on this strand; the job's first event (or, for a start asked
    // again with its key, its replay) arrives through a post, so after it.
    if (auto const* before = std::get_if<jobs::started_before>(&started)) {
        watched.add(before->job_id);
        connection.reply(
            protocol::job_started{before->job_id, before->spec.kind, before->spec.steps, before->spec.label}, id);
        return;
    }
    auto const& job_id = std::get<std::string>(started);
    watched.add(job_id);
    connection.reply(protocol::job_started{job_id, spec.kind, spec.steps, spec.label}, id);
}

}  // namespace

void add_job_messages(service::json_extensions& json, jobs::job_manager& jobs)
{
    auto const slot = json.add_state_slot();
    json.on<protocol::job_start>(
        [&jobs, slot](service::json_dialect& connection, protocol::job_start const& request, protocol::request_id id) {
            start_job(connection, jobs, slot, request, id);
        });
    json.on<protocol::job_cancel>(
        [&jobs](service::json_dialect& connection, protocol::job_cancel const& request, protocol::request_id id) {
            if (auto refusal = jobs.cancel(request.job, connection.user(), connection.out().target(), id))
                connection.fail(id, refusal->code, refusal->message);
        });
    json.on<protocol::job_resume>(
        [&jobs, slot](service::json_dialect& connection, protocol::job_resume const& request, protocol::request_id id) {
            if (auto refusal =
                    jobs.resume(request.job, connection.user(), request.after_seq, connection.out().target(), id)) {
                connection.fail(id, refusal->code, refusal->message);
                return;
            }
            connection.state<watched_jobs>(slot, [&] { return std::make_unique<watched_jobs>(jobs); }).add(request.job);
        });
}

}  // namespace coropush::jobs_feature
