// libFuzzer target: the server API's request bodies, with the right key, sent to each endpoint
// that takes a body: POST /api/publish, POST /api/jobs, and the progress, done and failed reports
// of a job created for the input. Properties checked beyond "does not crash": every answer is
// JSON; an error has a code and a message; a publish answers 200 or 400, and a 200 published
// exactly the messages it counts, each as a message envelope the codec reads back with its topic;
// a job is created (201 with a well-formed id) or refused (400); a report answers 200, 400, or,
// once the job has ended, 409.
#include "api/server_api.hpp"
#include "jobs/feature/jobs_feature.hpp"
#include "jobs/feature/json_job_wire.hpp"
#include "jobs/job_manager.hpp"
#include "protocol/codec.hpp"
#include "service/json_dialect.hpp"
#include "topics/feature/topics_feature.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace coropush;

void check(bool condition)
{
    if (!condition)
        std::abort();
}

constexpr char key[] = "fuzzing-key";

api::http_request post(std::string const& target, std::string body)
{
    api::http_request request{http::verb::post, target, 11};
    request.set(http::field::authorization, std::string("Bearer ") + key);
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
    return request;
}

// The answer, run on `io` until it is there; and its body, which must be a JSON object.
struct answer {
    http::status status;
    boost::json::object body;
};

answer ask(asio::io_context& io, api::server_api& api, api::http_request request)
{
    std::optional<api::http_response> response;
    asio::co_spawn(io, api.handle(std::move(request)), [&](std::exception_ptr e, api::http_response r) {
        check(!e);
        response = std::move(r);
    });
    io.restart();
    while (!response)
        check(io.run_one() != 0);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(response->body(), ec);
    check(!ec && parsed.is_object());
    return {response->result(), std::move(parsed.as_object())};
}

void check_error(answer const& a)
{
    auto const& error = a.body.at("error").as_object();
    check(!error.at("code").as_string().empty() && !error.at("message").as_string().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    std::string const input(reinterpret_cast<char const*>(data), size);
    asio::io_context io;
    metrics stats;
    jobs_feature::json_job_wire const job_wire;
    auto jobs = std::make_shared<jobs::job_manager>(io.get_executor(), job_wire, jobs::job_limits{}, stats);
    std::vector<std::pair<std::string, std::string>> published;  // topic, envelope
    api::api_settings settings;
    settings.key = key;
    settings.requests_per_second = 0;  // no limit: every input reaches the parser
    api::server_api api(settings, api::api_services{[] { return std::optional<std::string>(); },
                                                    [](std::string_view) { return std::size_t{0}; },
                                                    {}});
    constexpr std::size_t max_topic_length = 128;
    api.add(topics_feature::publish_route(
        [&](std::string const& topic, shared_payload const& envelope) {
            published.emplace_back(topic, *envelope);
            return std::size_t{1};
        },
        max_topic_length));
    api.add(jobs_feature::job_routes(*jobs, max_topic_length));

    auto const publish = ask(io, api, post("/api/publish", input));
    if (publish.status == http::status::ok) {
        auto const& delivered = publish.body.at("delivered");
        check(delivered.is_array() ? delivered.as_array().size() == published.size() : published.size() == 1);
        for (auto const& [topic, envelope] : published) {
            auto const parsed = protocol::parse_envelope(envelope);
            check(parsed && parsed->type == "message" && parsed->data.at("topic").as_string() == topic);
        }
    } else {
        check(publish.status == http::status::bad_request);
        check(published.empty());
        check_error(publish);
    }

    auto const created = ask(io, api, post("/api/jobs", input));
    if (created.status == http::status::created) {
        check(jobs::well_formed_job_id(created.body.at("job").as_string()));
    } else {
        check(created.status == http::status::bad_request);
        check_error(created);
    }

    auto const job = ask(io, api, post("/api/jobs", R"({"label":"fuzzed"})"));
    auto const id = std::string(job.body.at("job").as_string());
    bool ended = false;
    for (char const* action : {"progress", "done", "failed"}) {
        auto const reported = ask(io, api, post("/api/jobs/" + id + "/" + action, input));
        if (reported.status == http::status::ok) {
            check(reported.body.at("job").as_string() == id && !ended);
            ended = ended || std::string_view(action) != "progress";
        } else {
            check(reported.status == http::status::bad_request || (ended && reported.status == http::status::conflict));
            check_error(reported);
        }
    }
    jobs->shutdown();
    io.restart();
    io.run();
    return 0;
}
