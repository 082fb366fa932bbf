// A job's messages in the coropush.v1 dialect (docs/protocol.md, "Jobs"): each event is the
// codec's envelope of its struct; a job's topic hears it as a topic message whose data is that
// envelope, exactly as a watcher receives it.
#pragma once

#include "jobs/job_wire.hpp"

namespace coropush::jobs_feature {

class json_job_wire final : public jobs::job_wire {
public:
    shared_payload event(jobs::job_event const& e) const override;
    jobs::envelope_around_seq event_around_seq(jobs::job_event const& e) const override;
    shared_payload topic_message(std::string const& topic, jobs::job_topic_event const& e) const override;
    shared_payload resumed(protocol::job_resumed const& answer, protocol::request_id id) const override;
    shared_payload cancelling(protocol::job_cancelling const& answer, protocol::request_id id) const override;
    shared_payload error(protocol::request_id id, protocol::errc code, std::string_view message) const override;
};

}  // namespace coropush::jobs_feature
