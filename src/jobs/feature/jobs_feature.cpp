// The jobs feature assembled: the job manager, the Redis job store when the backplane is Redis, the
// JSON wire they write with, and their registrations with the dialect and the API.
#include "jobs/feature/jobs_feature.hpp"

#include "jobs/feature/json_job_wire.hpp"
#include "jobs/job_manager.hpp"
#include "jobs/redis/redis_job_store.hpp"
#include "pubsub/redis_backplane.hpp"
#include "service/json_extensions.hpp"

namespace coropush::jobs_feature {
namespace {

jobs::job_limits make_job_limits(server_options const& options)
{
    jobs::job_limits limits;
    limits.per_connection = options.max_jobs_per_connection;
    limits.total = options.max_jobs_total;
    limits.retention = options.job_retention;
    limits.owners_only = options.auth != auth::auth_mode::off;
    return limits;
}

// A job's events to its topic: to the subscribers on every node, when this build has topics (the
// host's publish, looked up at each event: set or not, it is the server's and outlives the jobs).
jobs::topic_publisher to_topics(service::topic_publisher const& publish)
{
    return [&publish](std::string const& topic, shared_payload const& envelope) {
        if (publish)
            publish(topic, envelope);
    };
}

class jobs_running final : public service::feature {
public:
    explicit jobs_running(service::feature_host const& host)
        : manager_(std::make_shared<jobs::job_manager>(host.io.get_executor(), wire_, make_job_limits(host.options),
                                                       host.stats, to_topics(host.publish)))
    {
        // With a Redis backplane, the backend's jobs live in Redis, so that every node serves them.
        if (auto* redis = dynamic_cast<pubsub::redis_backplane*>(&host.link)) {
            store_ = std::make_unique<jobstore::redis_job_store>(*redis, wire_, make_job_limits(host.options),
                                                                 host.stats, to_topics(host.publish));
            manager_->share_with(store_.get());
        }
        add_job_messages(host.json, *manager_);
        jobs::backend_jobs& backend = store_ ? static_cast<jobs::backend_jobs&>(*store_) : *manager_;
        host.api.add(job_routes(backend, host.options.max_topic_length));
    }

    void stop() override
    {
        manager_->shutdown();
        if (store_)
            store_->shutdown();
    }

private:
    json_job_wire const wire_;  // before the jobs, which write with it
    std::shared_ptr<jobs::job_manager> manager_;
    std::unique_ptr<jobstore::redis_job_store> store_;
};

}  // namespace

std::unique_ptr<service::feature> make_jobs(service::feature_host const& host)
{
    return std::make_unique<jobs_running>(host);
}

}  // namespace coropush::jobs_feature
