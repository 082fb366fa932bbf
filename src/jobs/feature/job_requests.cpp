// Reading the job endpoints' bodies; writing a job's state.
#include "jobs/feature/job_requests.hpp"

#include "jobs/job_kind.hpp"
#include "protocol/topic_name.hpp"

#include <boost/beast/http/status.hpp>

#include <string>

namespace coropush::jobs_feature {
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t max_user_bytes = 256;  // a user id: the `sub` of the user's tokens

api_error bad_job_field(std::string message)
{
    return api_error{http::status::bad_request, "bad_request", std::move(message)};
}

// A string field: `required`, or absent (or null) for an optional one. Nothing when absent.
std::variant<std::optional<std::string>, api_error> string_field(json::object const& body, std::string_view name,
                                                                 bool required)
{
    auto const* field = body.if_contains(name);
    if (!field || field->is_null()) {
        if (required)
            return bad_job_field(std::string(name) + " must be a string");
        return std::optional<std::string>();
    }
    if (!field->is_string())
        return bad_job_field(std::string(name) + " must be a string");
    return std::optional<std::string>(field->get_string());
}

}  // namespace

std::variant<jobs::backend_job_spec, api_error> read_job_spec(json::value const& body, std::size_t max_topic_length)
{
    auto const* object = body.if_object();
    if (!object)
        return bad_job_field("the body must be a JSON object");
    jobs::backend_job_spec spec;
    auto label = string_field(*object, "label", true);
    if (auto const* e = std::get_if<api_error>(&label))
        return *e;
    spec.label = *std::get<std::optional<std::string>>(std::move(label));
    if (spec.label.size() > jobs::max_label_bytes)
        return bad_job_field("label must be at most " + std::to_string(jobs::max_label_bytes) + " bytes");

    auto topic = string_field(*object, "topic", false);
    if (auto const* e = std::get_if<api_error>(&topic))
        return *e;
    if (auto& name = std::get<std::optional<std::string>>(topic)) {
        if (!valid_topic_name(*name, max_topic_length))
            return bad_job_field("topic must be 1 to " + std::to_string(max_topic_length) +
                                 " characters from A-Z a-z 0-9 . _ : / -");
        spec.topic = std::move(*name);
    }

    auto user = string_field(*object, "user", false);
    if (auto const* e = std::get_if<api_error>(&user))
        return *e;
    if (auto& sub = std::get<std::optional<std::string>>(user)) {
        if (sub->empty() || sub->size() > max_user_bytes)
            return bad_job_field("user must be a non-empty string of at most " + std::to_string(max_user_bytes) +
                                 " bytes (or left out)");
        spec.user = std::move(*sub);
    }
    return spec;
}

std::variant<jobs::backend_report, api_error> read_job_report(jobs::backend_report::kind what, json::value const& body)
{
    auto const* object = body.if_object();
    if (!object)
        return bad_job_field("the body must be a JSON object");
    jobs::backend_report update;
    update.what = what;
    char const* text_name = "message";
    if (what == jobs::backend_report::kind::progress) {
        auto const* percent = object->if_contains("percent");
        if (!percent || !(percent->is_int64() || percent->is_uint64()))  // not 60.0: a plain integer
            return bad_job_field("percent must be an integer from 0 to 100");
        boost::system::error_code ec;
        auto const value = percent->to_number<std::int64_t>(ec);
        if (ec || value < 0 || value > 100)
            return bad_job_field("percent must be an integer from 0 to 100");
        update.percent = static_cast<std::uint32_t>(value);
        if (auto const* data = object->if_contains("data"); data && !data->is_null())
            update.data = *data;
    } else {
        text_name = what == jobs::backend_report::kind::done ? "result" : "reason";
    }
    auto text = string_field(*object, text_name, true);
    if (auto const* e = std::get_if<api_error>(&text))
        return *e;
    update.text = *std::get<std::optional<std::string>>(std::move(text));
    return update;
}

json::object status_json(jobs::backend_job_status const& state)
{
    auto const optional_text = [](std::string const& text) { return text.empty() ? json::value() : json::value(text); };
    json::object answer;
    answer["job"] = state.job;
    answer["label"] = state.label;
    answer["user"] = optional_text(state.user);
    answer["topic"] = optional_text(state.topic);
    answer["state"] = state.state == jobs::job_state::running ? "running"
                      : state.state == jobs::job_state::done  ? "done"
                                                              : "failed";
    answer["percent"] = state.percent;
    answer["seq"] = state.seq;
    answer["cancel_requested"] = state.cancel_requested;
    return answer;
}

}  // namespace coropush::jobs_feature
