// A job's messages, written by the codec; a topic hears them as any topic message (topic_envelope).
#include "jobs/feature/json_job_wire.hpp"

#include "protocol/codec.hpp"
#include "service/json_dialect.hpp"

#include <boost/json/object.hpp>

namespace coropush::jobs_feature {

shared_payload json_job_wire::event(jobs::job_event const& e) const
{
    return make_payload(std::visit([](auto const& event) { return protocol::encode(event); }, e));
}

// The event written with seq 0, cut at that seq. (`seq` is written right after `job`, whose value
// is hex digits, so the first `"seq":` is the field, whatever the text or data hold.)
jobs::envelope_around_seq json_job_wire::event_around_seq(jobs::job_event const& e) const
{
    auto const text = std::visit(
        [](auto event) {
            event.seq = 0;
            return protocol::encode(event);
        },
        e);
    constexpr std::string_view field = "\"seq\":0";
    auto const at = text.find(field);
    return {text.substr(0, at + field.size() - 1), text.substr(at + field.size())};
}

shared_payload json_job_wire::topic_message(std::string const& topic, jobs::job_topic_event const& e) const
{
    boost::json::object envelope;
    std::visit(
        [&](auto const& event) {
            envelope["type"] = std::decay_t<decltype(event)>::type;
            envelope["data"] = protocol::to_data(event);
        },
        e);
    return service::topic_envelope(protocol::message{topic, std::nullopt, boost::json::value(std::move(envelope))});
}

shared_payload json_job_wire::resumed(protocol::job_resumed const& answer, protocol::request_id id) const
{
    return make_payload(protocol::encode(answer, id));
}

shared_payload json_job_wire::cancelling(protocol::job_cancelling const& answer, protocol::request_id id) const
{
    return make_payload(protocol::encode(answer, id));
}

shared_payload json_job_wire::error(protocol::request_id id, protocol::errc code, std::string_view message) const
{
    return make_payload(protocol::encode_error(id, code, message));
}

}  // namespace coropush::jobs_feature
