// The API's job endpoints (docs/api.md, "Jobs"): a backend creates a job, reports its progress and
// its end, and reads its state.
#include "jobs/feature/jobs_feature.hpp"

#include "jobs/backend_jobs.hpp"
#include "jobs/feature/job_requests.hpp"

#include <boost/beast/http/status.hpp>

namespace coropush::jobs_feature {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view jobs_prefix = "/api/jobs";

// What a path under /api/jobs names: creating a job, a job's state, or a report on it.
struct job_path {
    enum class endpoint { create, status, report };
    endpoint to = endpoint::create;
    std::string job_id;
    jobs::backend_report::kind report = jobs::backend_report::kind::progress;
};

// /api/jobs, /api/jobs/{id}, /api/jobs/{id}/{progress|done|failed}.
std::optional<job_path> read_job_path(std::string_view path)
{
    if (!path.starts_with(jobs_prefix))
        return std::nullopt;
    auto rest = path.substr(jobs_prefix.size());
    if (rest.empty())
        return job_path{};
    if (!rest.starts_with('/') || rest.size() == 1)
        return std::nullopt;
    rest.remove_prefix(1);
    auto const slash = rest.find('/');
    std::string id(rest.substr(0, slash));
    if (slash == std::string_view::npos)
        return job_path{job_path::endpoint::status, std::move(id)};
    auto const action = rest.substr(slash + 1);
    auto const report = action == "progress" ? std::optional(jobs::backend_report::kind::progress)
                        : action == "done"   ? std::optional(jobs::backend_report::kind::done)
                        : action == "failed" ? std::optional(jobs::backend_report::kind::failed)
                                             : std::nullopt;
    if (!report)
        return std::nullopt;
    return job_path{job_path::endpoint::report, std::move(id), *report};
}

// A refusal from where the jobs live, as the API answers it.
api_error job_error(jobs::job_refusal const& refusal)
{
    switch (refusal.code) {
    case protocol::errc::unknown_job:
        return {http::status::not_found, "unknown_job", refusal.message};
    case protocol::errc::job_finished:
        return {http::status::conflict, "job_finished", refusal.message};
    case protocol::errc::bad_data:
        return {http::status::bad_request, "bad_request", refusal.message};
    case protocol::errc::too_many_jobs:
        return {http::status::service_unavailable, "too_many_jobs", refusal.message};
    case protocol::errc::shutting_down:
    case protocol::errc::backplane_unavailable:
        return {http::status::service_unavailable, "unavailable", refusal.message};
    default:
        return {http::status::internal_server_error, "internal_error", refusal.message};
    }
}

// POST /api/jobs {"label", "topic"?, "user"?}: a new running job, 201 {"job"} and its Location.
asio::awaitable<api::api_result> create_job(jobs::backend_jobs& jobs, std::size_t max_topic_length,
                                            json::value const& body)
{
    auto spec = read_job_spec(body, max_topic_length);
    if (auto const* e = std::get_if<api_error>(&spec))
        co_return *e;
    // Named before it is awaited: GCC 12 may destroy an aggregate argument in a co_await twice.
    auto pending = jobs.create(std::get<jobs::backend_job_spec>(std::move(spec)));
    auto created = co_await std::move(pending);
    if (auto const* refusal = std::get_if<jobs::job_refusal>(&created))
        co_return job_error(*refusal);
    auto const& job_id = std::get<std::string>(created);
    api::api_answer answer;
    answer.body["job"] = job_id;
    answer.status = http::status::created;
    answer.location = std::string(jobs_prefix) + "/" + job_id;
    co_return answer;
}

// POST /api/jobs/{id}/progress {"percent", "message", "data"?}, .../done {"result"},
// .../failed {"reason"}: one event of the job, for its watchers (and its topic).
asio::awaitable<api::api_result> report_job(jobs::backend_jobs& jobs, job_path const& to, json::value const& body)
{
    auto update = read_job_report(to.report, body);
    if (auto const* e = std::get_if<api_error>(&update))
        co_return *e;
    if (!jobs::well_formed_job_id(to.job_id))
        co_return job_error({protocol::errc::unknown_job, jobs::no_job_message(to.job_id)});
    auto pending = jobs.report(to.job_id, std::get<jobs::backend_report>(std::move(update)));
    auto reported = co_await std::move(pending);
    if (auto const* refusal = std::get_if<jobs::job_refusal>(&reported))
        co_return job_error(*refusal);
    auto const& state = std::get<jobs::backend_job_status>(reported);
    api::api_answer answer;
    answer.body["job"] = state.job;
    answer.body["seq"] = state.seq;
    if (to.report == jobs::backend_report::kind::progress)
        answer.body["cancel_requested"] = state.cancel_requested;
    co_return answer;
}

// GET /api/jobs/{id}: the job's state.
asio::awaitable<api::api_result> job_status(jobs::backend_jobs& jobs, job_path const& to)
{
    if (!jobs::well_formed_job_id(to.job_id))
        co_return job_error({protocol::errc::unknown_job, jobs::no_job_message(to.job_id)});
    auto found = co_await jobs.status(to.job_id);
    if (auto const* refusal = std::get_if<jobs::job_refusal>(&found))
        co_return job_error(*refusal);
    api::api_answer answer;
    answer.body = status_json(std::get<jobs::backend_job_status>(found));
    co_return answer;
}

asio::awaitable<api::api_result> answer_job_request(jobs::backend_jobs& jobs, std::size_t max_topic_length,
                                                    std::string path, json::value body)
{
    auto const to = read_job_path(path);
    if (!to)  // method_of has refused it already
        co_return api_error{http::status::not_found, "not_found", "no API endpoint at " + path};
    switch (to->to) {
    case job_path::endpoint::create:
        co_return co_await create_job(jobs, max_topic_length, body);
    case job_path::endpoint::status:
        co_return co_await job_status(jobs, *to);
    case job_path::endpoint::report:
        break;
    }
    co_return co_await report_job(jobs, *to, body);
}

}  // namespace

api::api_resource job_routes(jobs::backend_jobs& jobs, std::size_t max_topic_length)
{
    return api::api_resource{std::string(jobs_prefix),
                             [](std::string_view path) -> std::optional<http::verb> {
                                 auto const to = read_job_path(path);
                                 if (!to)
                                     return std::nullopt;
                                 return to->to == job_path::endpoint::status ? http::verb::get : http::verb::post;
                             },
                             [&jobs, max_topic_length](std::string path, json::value body) {
                                 return answer_job_request(jobs, max_topic_length, std::move(path), std::move(body));
                             }};
}

}  // namespace coropush::jobs_feature
