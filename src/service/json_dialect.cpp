// Request handlers of the coropush.v1 dialect.
#include "service/json_dialect.hpp"

#include "core/log.hpp"
#include "jobs/job_manager.hpp"
#include "pubsub/topic_hub.hpp"
#include "pubsub/topic_name.hpp"

#include <chrono>

namespace coropush {

void json_dialect::on_text(std::string_view text)
{
    auto decoded = protocol::decode_request(text);
    if (auto const* bad = std::get_if<protocol::decode_error>(&decoded)) {
        fail(bad->id, bad->code, bad->message);
        return;
    }
    auto& request = std::get<protocol::inbound>(decoded);
    std::visit([&](auto const& body) { handle(body, request.id); }, request.body);
}

void json_dialect::on_binary(std::string_view)
{
    // Binary frames have no meaning in this dialect; say so and keep the connection.
    fail({}, protocol::errc::binary_unsupported, "binary frames are not supported; send JSON text frames");
}

void json_dialect::fail(protocol::request_id id, protocol::errc code, std::string_view message)
{
    services_.stats.error_envelope(code);
    log_debug(out_.id(), "error envelope ", protocol::to_string(code), ": ", message);
    out_.send(text_frame(make_payload(protocol::encode_error(id, code, message))));
}

// --- The demo ----------------------------------------------------------------------------------

void json_dialect::handle(protocol::hello const&, protocol::request_id id)
{
    reply(protocol::welcome{services_.demo.welcome_text}, id);
    // The notice is the same bytes for everyone: serialized once at start-up.
    out_.send_after(services_.demo.push_delay, text_frame(services_.demo.json_notice));
}

void json_dialect::handle(protocol::echo const& request, protocol::request_id id)
{
    reply(protocol::echo{request.text}, id);
}

// --- Topics ------------------------------------------------------------------------------------

bool json_dialect::check_topic(std::string const& topic, protocol::request_id id)
{
    if (valid_topic_name(topic, services_.options.max_topic_length))
        return true;
    fail(id, protocol::errc::invalid_topic,
         "a topic is 1 to " + std::to_string(services_.options.max_topic_length) +
             " characters from A-Z a-z 0-9 . _ : / -");
    return false;
}

void json_dialect::handle(protocol::subscribe const& request, protocol::request_id id)
{
    if (!check_topic(request.topic, id))
        return;
    if (!subscriptions_.contains(request.topic)) {
        if (subscriptions_.size() >= services_.options.max_subscriptions) {
            fail(id, protocol::errc::too_many_subscriptions,
                 "at most " + std::to_string(services_.options.max_subscriptions) + " subscriptions per connection");
            return;
        }
        subscriptions_.insert(request.topic);
        services_.hub.subscribe(request.topic, out_.target());
    }
    reply(protocol::subscribed{request.topic}, id);
}

void json_dialect::handle(protocol::unsubscribe const& request, protocol::request_id id)
{
    if (!check_topic(request.topic, id))
        return;
    // Idempotent: unsubscribing from a topic one is not subscribed to is not an error.
    if (subscriptions_.erase(request.topic) != 0)
        services_.hub.unsubscribe(request.topic, out_.id());
    reply(protocol::unsubscribed{request.topic}, id);
}

void json_dialect::handle(protocol::publish const& request, protocol::request_id id)
{
    if (!check_topic(request.topic, id))
        return;
    if (!request.text && !request.data) {
        fail(id, protocol::errc::bad_data, "data.text or data.data is required");
        return;
    }
    // Serialized once here; every subscriber's queue, and the backplane, share the buffer.
    protocol::message const message{request.topic, request.text, request.data};
    auto const envelope = make_payload(protocol::encode(message));
    auto const delivered = services_.hub.publish(request.topic, envelope);
    reply(protocol::published{request.topic, delivered}, id);
}

// --- Jobs --------------------------------------------------------------------------------------

void json_dialect::handle(protocol::job_start const& request, protocol::request_id id)
{
    auto const& options = services_.options;
    job_spec spec;
    spec.kind = request.kind.value_or("sample");
    spec.steps = request.steps.value_or(10);
    spec.step_time = request.step_ms ? std::chrono::milliseconds(*request.step_ms) : options.job_step_time;
    spec.label = request.label.value_or("");
    if (spec.steps == 0 || spec.steps > options.max_job_steps) {
        fail(id, protocol::errc::bad_data, "data.steps must be 1 to " + std::to_string(options.max_job_steps));
        return;
    }
    if (request.step_ms && *request.step_ms > 60'000) {
        fail(id, protocol::errc::bad_data, "data.step_ms must be at most 60000");
        return;
    }
    if (spec.label.size() > 200) {
        fail(id, protocol::errc::bad_data, "data.label must be at most 200 bytes");
        return;
    }
    if (services_.draining.load(std::memory_order_relaxed)) {
        fail(id, protocol::errc::shutting_down, "the server is shutting down");
        return;
    }
    auto started = services_.jobs.start(spec, out_.target());
    if (auto const* refusal = std::get_if<job_refusal>(&started)) {
        fail(id, refusal->code, refusal->message);
        return;
    }
    auto const& job_id = std::get<std::string>(started);
    watched_jobs_.insert(job_id);
    // Queued now, on this strand; the job's first event arrives through a post, so after this.
    reply(protocol::job_started{job_id, spec.kind, spec.steps, spec.label}, id);
}

void json_dialect::handle(protocol::job_cancel const& request, protocol::request_id id)
{
    if (auto refusal = services_.jobs.cancel(request.job, out_.target(), id))
        fail(id, refusal->code, refusal->message);
}

void json_dialect::handle(protocol::job_resume const& request, protocol::request_id id)
{
    if (auto refusal = services_.jobs.resume(request.job, request.after_seq, out_.target(), id)) {
        fail(id, refusal->code, refusal->message);
        return;
    }
    watched_jobs_.insert(request.job);
}

void json_dialect::on_closed()
{
    for (auto const& topic : subscriptions_)
        services_.hub.unsubscribe(topic, out_.id());
    subscriptions_.clear();
    for (auto const& job_id : watched_jobs_)
        services_.jobs.unwatch(job_id, out_.id());
    watched_jobs_.clear();
}

}  // namespace coropush
