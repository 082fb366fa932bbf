// The bodies of the job endpoints (/api/jobs...), read into what the jobs take, and a job's state
// written as GET /api/jobs/{id} answers it. Plain functions, tested with the rest of the API.
#pragma once

#include "api/server_api.hpp"
#include "jobs/backend_jobs.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <variant>

namespace coropush::jobs_feature {
using api::api_error;

// POST /api/jobs {"label", "topic"?, "user"?}.
std::variant<jobs::backend_job_spec, api_error> read_job_spec(boost::json::value const& body,
                                                              std::size_t max_topic_length);

// POST /api/jobs/{id}/progress {"percent", "message", "data"?}, .../done {"result"},
// .../failed {"reason"}.
std::variant<jobs::backend_report, api_error> read_job_report(jobs::backend_report::kind what,
                                                              boost::json::value const& body);

// {"job","label","user","topic","state","percent","seq","cancel_requested"}; no user or topic: null.
boost::json::object status_json(jobs::backend_job_status const& state);

}  // namespace coropush::jobs_feature
