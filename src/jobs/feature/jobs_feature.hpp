// Jobs as a feature of the server: what server/features.cpp registers with one line. It runs the
// job manager (and, with a Redis backplane, the job store that lets every node serve a backend's
// jobs), answers the job messages of the coropush.v1 dialect (job_start, job_cancel, job_resume)
// and serves the API's /api/jobs endpoints. Without src/jobs/, the server answers those messages
// with unknown_type and those paths with 404 (docs/template.md).
#pragma once

#include "api/server_api.hpp"
#include "service/feature.hpp"

#include <cstddef>
#include <memory>

namespace coropush::jobs {
class backend_jobs;
class job_manager;
}  // namespace coropush::jobs
namespace coropush::service {
class json_extensions;
}

namespace coropush::jobs_feature {

// The feature, built from the server's settings and registered with its dialect and its API.
std::unique_ptr<service::feature> make_jobs(service::feature_host const& host);

// Its parts, for tests and for a server assembled by hand:
// job_start, job_cancel and job_resume of the JSON dialect, answered with `jobs`; each connection
// remembers the jobs it watches, and stops watching them when it closes.
void add_job_messages(service::json_extensions& json, jobs::job_manager& jobs);
// /api/jobs, /api/jobs/{id}, /api/jobs/{id}/{progress|done|failed}, answered with `jobs`
// (docs/api.md).
api::api_resource job_routes(jobs::backend_jobs& jobs, std::size_t max_topic_length);

}  // namespace coropush::jobs_feature
