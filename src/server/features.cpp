// The features the server runs beside its transport, one line each: each registers its message
// types with the JSON dialect and its endpoints with the server API (service/feature.hpp). To
// remove a feature, delete its folder and its two lines here (its include and its registration);
// to add one, write its factory and add its line (CONTRIBUTING.md, recipe 6).
#include "server/server_state.hpp"

#include "jobs/feature/jobs_feature.hpp"      // jobs (src/jobs/)
#include "topics/feature/topics_feature.hpp"  // topics (src/topics/)

namespace coropush {

// (maybe_unused: a server built without any feature uses neither.)
void add_features([[maybe_unused]] std::vector<std::unique_ptr<service::feature>>& features,
                  [[maybe_unused]] service::feature_host const& host)
{
    features.push_back(topics_feature::make_topics(host));  // topics (src/topics/): subscribe..., /api/publish
    features.push_back(jobs_feature::make_jobs(host));      // jobs (src/jobs/): job_start..., /api/jobs
}

}  // namespace coropush
