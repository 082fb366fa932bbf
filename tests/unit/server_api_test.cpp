// The server API as a plain object: authentication, routing, validation, the rate limit and what
// a publish hands to the hub, without sockets (tests/integration/api_test.cpp has them). The
// job endpoints run against a real job manager on an io_context the test drives.
#include "api/server_api.hpp"

#include "jobs/feature/jobs_feature.hpp"
#include "jobs/feature/json_job_wire.hpp"
#include "jobs/job_manager.hpp"
#include "service/json_dialect.hpp"
#include "topics/feature/topics_feature.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

namespace coropush::api {
namespace {
namespace http = boost::beast::http;
namespace json = boost::json;
namespace asio = boost::asio;

constexpr char key[] = "k3y-for-tests-0123456789abcdef0123";

struct published_message {
    std::string topic;
    std::string envelope;
};

// Runs the API's answer on `io` until it is there (the jobs' own timers keep `io` busy).
http_response run(asio::io_context& io, asio::awaitable<http_response> answer)
{
    std::optional<http_response> response;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(answer), [&](std::exception_ptr e, http_response r) {
        failure = e;
        response = std::move(r);
    });
    io.restart();
    while (!response && !failure)
        if (io.run_one() == 0)
            throw std::runtime_error("the API never answered");
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*response);
}

// The API under test, with a synchronous handle for the tests.
class api_under_test {
public:
    api_under_test(asio::io_context& io, api_settings const& settings, api_services services,
                   std::vector<api_resource> resources)
        : io_(io),
          api_(settings, std::move(services))
    {
        for (auto& resource : resources)
            api_.add(std::move(resource));
    }
    http_response handle(http_request request) { return run(io_, api_.handle(std::move(request))); }
    bool enabled() const noexcept { return api_.enabled(); }

private:
    asio::io_context& io_;
    server_api api_;
};

// The features' endpoints the API gets in a test, as the server's features add them.
struct features {
    bool topics = true;  // /api/publish (topics_feature::publish_route), into `published`
    std::size_t max_batch = 1000;
    bool jobs = true;  // /api/jobs... (jobs_feature::job_routes), on `jobs`
};

class server_api_test : public ::testing::Test {
public:
    server_api_test() = default;
    ~server_api_test() override
    {
        jobs->shutdown();
        io.restart();
        io.run();  // the jobs end, and are forgotten
    }
    server_api_test(server_api_test const&) = delete;
    server_api_test& operator=(server_api_test const&) = delete;

protected:
    api_under_test make(api_settings settings = {}, features with = {})
    {
        if (settings.key.empty())
            settings.key = key;
        std::vector<api_resource> resources;
        if (with.topics)
            resources.push_back(topics_feature::publish_route(
                [this](std::string const& topic, shared_payload const& envelope) {
                    published.push_back({topic, *envelope});
                    return subscribers;
                },
                max_topic_length, with.max_batch));
        if (with.jobs)
            resources.push_back(jobs_feature::job_routes(*jobs, max_topic_length));
        return api_under_test(io, settings,
                              api_services{[this] { return unavailable; },
                                           [this](std::string_view user) {
                                               disconnected.emplace_back(user);
                                               return sessions_of_user;
                                           },
                                           {}},
                              std::move(resources));
    }

    static http_request post(std::string const& target, std::string body,
                             std::string const& authorization = std::string("Bearer ") + key,
                             std::string const& content_type = "application/json")
    {
        http_request request{http::verb::post, target, 11};
        if (!authorization.empty())
            request.set(http::field::authorization, authorization);
        if (!content_type.empty())
            request.set(http::field::content_type, content_type);
        request.body() = std::move(body);
        request.prepare_payload();
        return request;
    }

    // The error code of an error answer ("" when the answer is not one).
    static std::string error_code(http_response const& response)
    {
        auto const body = json::parse(response.body());
        auto const* error = body.as_object().if_contains("error");
        return error ? std::string(error->at("code").as_string()) : std::string();
    }

    asio::io_context io;
    metrics stats;
    jobs_feature::json_job_wire job_wire;
    std::shared_ptr<jobs::job_manager> jobs =
        std::make_shared<jobs::job_manager>(io.get_executor(), job_wire, jobs::job_limits{}, stats,
                                            [this](std::string const& topic, shared_payload const& envelope) {
                                                published.push_back({topic, *envelope});
                                            });
    std::vector<published_message> published;
    std::size_t subscribers = 0;
    std::vector<std::string> disconnected;
    std::size_t sessions_of_user = 0;
    std::optional<std::string> unavailable;
    static constexpr std::size_t max_topic_length = 128;
};

TEST_F(server_api_test, a_publish_goes_to_the_hub_as_one_message_envelope_and_answers_delivered)
{
    auto api = make();
    subscribers = 3;
    auto const response = api.handle(post("/api/publish", R"({"topic":"orders/42","data":{"state":"shipped"}})"));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_EQ(json::parse(response.body()), json::parse(R"({"delivered":3})"));
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].topic, "orders/42");
    EXPECT_EQ(json::parse(published[0].envelope),
              json::parse(R"({"type":"message","data":{"topic":"orders/42","data":{"state":"shipped"}}})"));
}

TEST_F(server_api_test, a_batch_publishes_every_message_once_in_order_and_answers_each_count)
{
    auto api = make();
    subscribers = 1;
    auto const response = api.handle(post(
        "/api/publish",
        R"({"messages":[{"topic":"a","text":"one"},{"topic":"b","data":[1,2]},{"topic":"a","data":null,"text":"x"}]})"));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_EQ(json::parse(response.body()), json::parse(R"({"delivered":[1,1,1]})"));
    ASSERT_EQ(published.size(), 3u);
    EXPECT_EQ(published[0].topic, "a");
    EXPECT_EQ(published[1].topic, "b");
    EXPECT_EQ(json::parse(published[2].envelope), json::parse(R"({"type":"message","data":{"topic":"a","text":"x"}})"));
}

TEST_F(server_api_test, a_batch_with_one_bad_message_publishes_nothing_and_names_it)
{
    auto api = make();
    auto const response = api.handle(
        post("/api/publish", R"({"messages":[{"topic":"a","text":"ok"},{"topic":"has space","text":"x"}]})"));
    EXPECT_EQ(response.result(), http::status::bad_request);
    EXPECT_NE(response.body().find("messages[1].topic"), std::string::npos) << response.body();
    EXPECT_TRUE(published.empty());
}

TEST_F(server_api_test, the_key_is_checked_with_the_scheme_in_any_case)
{
    auto api = make();
    EXPECT_EQ(api.handle(post("/api/publish", R"({"topic":"t","text":"x"})", std::string("bearer ") + key)).result(),
              http::status::ok);
    EXPECT_EQ(api.handle(post("/api/publish", R"({"topic":"t","text":"x"})", std::string("BEARER ") + key)).result(),
              http::status::ok);
    for (std::string const& wrong :
         {std::string(), std::string("Bearer"), std::string("Bearer "), std::string("Basic ") + key,
          std::string("Bearer ") + key + "x", std::string("Bearer k3y")}) {
        auto const response = api.handle(post("/api/publish", R"({"topic":"t","text":"x"})", wrong));
        EXPECT_EQ(response.result(), http::status::unauthorized) << wrong;
        EXPECT_EQ(response[http::field::www_authenticate], "Bearer");
        EXPECT_EQ(error_code(response), "unauthorized");
    }
    EXPECT_EQ(published.size(), 2u);
}

TEST_F(server_api_test, disconnect_closes_a_users_sessions_and_answers_how_many)
{
    auto api = make();
    sessions_of_user = 2;
    auto const response = api.handle(post("/api/disconnect", R"({"user":"alice"})"));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_EQ(json::parse(response.body()), json::parse(R"({"disconnected":2})"));
    EXPECT_EQ(disconnected, std::vector<std::string>{"alice"});

    for (std::string_view const body : {"{}", R"({"user":""})", R"({"user":7})", "[]"}) {
        auto const bad = api.handle(post("/api/disconnect", std::string(body)));
        EXPECT_EQ(bad.result(), http::status::bad_request) << body;
        EXPECT_EQ(error_code(bad), "bad_request");
    }
    EXPECT_EQ(disconnected.size(), 1u);
}

TEST_F(server_api_test, without_a_key_there_is_no_api)
{
    api_under_test api(io, api_settings{}, api_services{}, {});
    EXPECT_FALSE(api.enabled());
    auto const response = api.handle(post("/api/publish", R"({"topic":"t","text":"x"})"));
    EXPECT_EQ(response.result(), http::status::not_found);
    EXPECT_EQ(error_code(response), "not_found");
}

struct bad_request_case {
    std::string name;
    http_request request;
    http::status status;
    std::string code;
};

TEST_F(server_api_test, every_bad_request_gets_its_status_and_error_code_and_publishes_nothing)
{
    auto api = make();
    auto get = post("/api/publish", "");
    get.method(http::verb::get);
    std::vector<bad_request_case> const cases{
        {"unknown endpoint", post("/api/nothing", "{}"), http::status::not_found, "not_found"},
        {"GET", get, http::status::method_not_allowed, "method_not_allowed"},
        {"no content type", post("/api/publish", R"({"topic":"t","text":"x"})", std::string("Bearer ") + key, ""),
         http::status::unsupported_media_type, "unsupported_media_type"},
        {"form content",
         post("/api/publish", "topic=t", std::string("Bearer ") + key, "application/x-www-form-urlencoded"),
         http::status::unsupported_media_type, "unsupported_media_type"},
        {"not JSON", post("/api/publish", "{topic:"), http::status::bad_request, "bad_json"},
        {"a number JSON cannot carry", post("/api/publish", R"({"topic":"t","data":{"n":[1e999]}})"),
         http::status::bad_request, "bad_json"},
        {"not an object", post("/api/publish", "[1]"), http::status::bad_request, "bad_request"},
        {"no topic", post("/api/publish", R"({"text":"x"})"), http::status::bad_request, "bad_request"},
        {"topic not a string", post("/api/publish", R"({"topic":5,"text":"x"})"), http::status::bad_request,
         "bad_request"},
        {"bad topic", post("/api/publish", R"({"topic":"a b","text":"x"})"), http::status::bad_request, "bad_request"},
        {"topic too long", post("/api/publish", R"({"topic":")" + std::string(129, 't') + R"(","text":"x"})"),
         http::status::bad_request, "bad_request"},
        {"neither text nor data", post("/api/publish", R"({"topic":"t"})"), http::status::bad_request, "bad_request"},
        {"text not a string", post("/api/publish", R"({"topic":"t","text":1})"), http::status::bad_request,
         "bad_request"},
        {"empty batch", post("/api/publish", R"({"messages":[]})"), http::status::bad_request, "bad_request"},
        {"batch not an array", post("/api/publish", R"({"messages":{}})"), http::status::bad_request, "bad_request"},
        {"a batch and a message at once",
         post("/api/publish", R"({"topic":"t","text":"x","messages":[{"topic":"a","text":"y"}]})"),
         http::status::bad_request, "bad_request"},
    };
    for (auto const& c : cases) {
        auto const response = api.handle(c.request);
        EXPECT_EQ(response.result(), c.status) << c.name;
        EXPECT_EQ(error_code(response), c.code) << c.name << ": " << response.body();
    }
    EXPECT_EQ(api.handle(get)[http::field::allow], "POST");
    EXPECT_TRUE(published.empty());
}

TEST_F(server_api_test, a_backend_job_is_created_with_201_and_its_topic_hears_it_started)
{
    auto api = make();
    auto const created = api.handle(post("/api/jobs", R"({"label":"export","topic":"user:alice","user":"alice"})"));
    EXPECT_EQ(created.result(), http::status::created);
    auto const id = std::string(json::parse(created.body()).at("job").as_string());
    EXPECT_TRUE(jobs::well_formed_job_id(id)) << id;
    EXPECT_EQ(created[http::field::location], "/api/jobs/" + id);
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].topic, "user:alice");
    EXPECT_EQ(
        json::parse(published[0].envelope),
        json::parse(R"({"type":"message","data":{"topic":"user:alice","data":{"type":"job_started","data":{"job":")" +
                    id + R"(","kind":"backend","label":"export"}}}})"));

    auto get = post("/api/jobs/" + id, "");
    get.method(http::verb::get);
    auto const state = api.handle(get);
    EXPECT_EQ(state.result(), http::status::ok);
    EXPECT_EQ(
        json::parse(state.body()),
        json::parse(
            R"({"job":")" + id +
            R"(","label":"export","user":"alice","topic":"user:alice","state":"running","percent":0,"seq":0,"cancel_requested":false})"));
}

TEST_F(server_api_test, progress_gets_the_next_seq_and_goes_to_the_topic_with_its_data)
{
    auto api = make();
    auto const id = std::string(
        json::parse(api.handle(post("/api/jobs", R"({"label":"l","topic":"reports"})")).body()).at("job").as_string());
    auto const first = api.handle(post("/api/jobs/" + id + "/progress", R"({"percent":10,"message":"reading"})"));
    EXPECT_EQ(first.result(), http::status::ok);
    EXPECT_EQ(json::parse(first.body()), json::parse(R"({"job":")" + id + R"(","seq":1,"cancel_requested":false})"));
    auto const second = api.handle(
        post("/api/jobs/" + id + "/progress", R"({"percent":10,"message":"still reading","data":{"rows":5}})"));
    EXPECT_EQ(json::parse(second.body()).at("seq"), 2);
    ASSERT_EQ(published.size(), 3u);
    EXPECT_EQ(
        json::parse(published[2].envelope),
        json::parse(R"({"type":"message","data":{"topic":"reports","data":{"type":"job_progress","data":{"job":")" +
                    id + R"(","seq":2,"percent":10,"message":"still reading","data":{"rows":5}}}}})"));
}

TEST_F(server_api_test, a_lower_percent_is_a_bad_request_and_changes_nothing)
{
    auto api = make();
    auto const id =
        std::string(json::parse(api.handle(post("/api/jobs", R"({"label":"l"})")).body()).at("job").as_string());
    EXPECT_EQ(api.handle(post("/api/jobs/" + id + "/progress", R"({"percent":50,"message":"half"})")).result(),
              http::status::ok);
    auto const lower = api.handle(post("/api/jobs/" + id + "/progress", R"({"percent":40,"message":"back"})"));
    EXPECT_EQ(lower.result(), http::status::bad_request);
    EXPECT_EQ(error_code(lower), "bad_request");
    EXPECT_NE(lower.body().find("percent must not decrease"), std::string::npos) << lower.body();
    auto const next = api.handle(post("/api/jobs/" + id + "/progress", R"({"percent":60,"message":"on"})"));
    EXPECT_EQ(json::parse(next.body()).at("seq"), 2) << "the refused report took no seq";
}

TEST_F(server_api_test, after_the_final_event_every_report_is_a_409)
{
    auto api = make();
    auto const id =
        std::string(json::parse(api.handle(post("/api/jobs", R"({"label":"l"})")).body()).at("job").as_string());
    auto const done = api.handle(post("/api/jobs/" + id + "/done", R"({"result":"ok"})"));
    EXPECT_EQ(done.result(), http::status::ok);
    EXPECT_EQ(json::parse(done.body()), json::parse(R"({"job":")" + id + R"(","seq":1})"));
    for (auto const& [action, body] :
         std::vector<std::pair<std::string, std::string>>{{"progress", R"({"percent":100,"message":"m"})"},
                                                          {"done", R"({"result":"again"})"},
                                                          {"failed", R"({"reason":"late"})"}}) {
        auto target = "/api/jobs/" + id;
        target.append("/").append(action);
        auto const late = api.handle(post(target, body));
        EXPECT_EQ(late.result(), http::status::conflict) << action;
        EXPECT_EQ(error_code(late), "job_finished") << action;
    }
    auto get = post("/api/jobs/" + id, "");
    get.method(http::verb::get);
    auto const state = json::parse(api.handle(get).body());
    EXPECT_EQ(state.at("state"), "done");
    EXPECT_EQ(state.at("seq"), 1);
}

TEST_F(server_api_test, unknown_and_malformed_job_ids_are_404_unknown_job)
{
    auto api = make();
    auto get = post("/api/jobs/0123456789abcdef0123456789abcdef", "");
    get.method(http::verb::get);
    for (auto const& request : {get, post("/api/jobs/0123456789abcdef0123456789abcdef/done", R"({"result":"x"})"),
                                post("/api/jobs/not-an-id/progress", R"({"percent":1,"message":"m"})")}) {
        auto const response = api.handle(request);
        EXPECT_EQ(response.result(), http::status::not_found) << request.target();
        EXPECT_EQ(error_code(response), "unknown_job") << request.target();
    }
    auto const elsewhere = api.handle(post("/api/jobs/0123456789abcdef0123456789abcdef/restart", "{}"));
    EXPECT_EQ(elsewhere.result(), http::status::not_found);
    EXPECT_EQ(error_code(elsewhere), "not_found");
}

TEST_F(server_api_test, each_job_endpoint_names_its_method_in_allow)
{
    auto api = make();
    auto get_list = post("/api/jobs", "");
    get_list.method(http::verb::get);
    auto post_state = post("/api/jobs/0123456789abcdef0123456789abcdef", "{}");
    auto get_progress = post("/api/jobs/0123456789abcdef0123456789abcdef/progress", "");
    get_progress.method(http::verb::get);
    for (auto const& [request, allow] : std::vector<std::pair<http_request, std::string>>{
             {get_list, "POST"}, {post_state, "GET, HEAD"}, {get_progress, "POST"}}) {
        auto const response = api.handle(request);
        EXPECT_EQ(response.result(), http::status::method_not_allowed) << request.target();
        EXPECT_EQ(response[http::field::allow], allow) << request.target();
        EXPECT_EQ(error_code(response), "method_not_allowed");
    }
}

// A feature's endpoints are its prefix and the paths under it, nothing else; a server built
// without the feature (src/jobs/ or src/topics/ deleted) answers them as any path it does not serve.
TEST_F(server_api_test, a_features_paths_are_its_own_and_without_it_are_404)
{
    auto with_jobs = make();
    auto const beside = with_jobs.handle(post("/api/jobsx", R"({"label":"l"})"));
    EXPECT_EQ(beside.result(), http::status::not_found);
    EXPECT_EQ(error_code(beside), "not_found");
    EXPECT_EQ(with_jobs.handle(post("/api/jobs", R"({"label":"l"})")).result(), http::status::created);

    auto without = make({}, {.jobs = false});
    for (auto const* path : {"/api/jobs", "/api/jobs/0123456789abcdef0123456789abcdef/done"}) {
        auto const response = without.handle(post(path, R"({"label":"l","result":"r"})"));
        EXPECT_EQ(response.result(), http::status::not_found) << path;
        EXPECT_EQ(error_code(response), "not_found") << path;
    }
    EXPECT_EQ(without.handle(post("/api/publish", R"({"topic":"t","data":{}})")).result(), http::status::ok)
        << "the other features' endpoints stay";
    auto no_topics = make({}, {.topics = false});
    auto const publish = no_topics.handle(post("/api/publish", R"({"topic":"t","data":{}})"));
    EXPECT_EQ(publish.result(), http::status::not_found) << "without topics";
    EXPECT_EQ(error_code(publish), "not_found");
    EXPECT_EQ(no_topics.handle(post("/api/disconnect", R"({"user":"u"})")).result(), http::status::ok)
        << "the API's own endpoint stays";
}

TEST_F(server_api_test, bad_job_bodies_are_400_naming_the_field)
{
    auto api = make();
    auto const id =
        std::string(json::parse(api.handle(post("/api/jobs", R"({"label":"l"})")).body()).at("job").as_string());
    std::vector<std::pair<std::string, std::string>> const cases{
        {"/api/jobs", "{}"},
        {"/api/jobs", R"({"label":")" + std::string(201, 'x') + R"("})"},
        {"/api/jobs", R"({"label":"l","topic":"a b"})"},
        {"/api/jobs", R"({"label":"l","user":""})"},
        {"/api/jobs", R"({"label":"l","user":7})"},
        {"/api/jobs", "[]"},
        {"/api/jobs/" + id + "/progress", R"({"message":"m"})"},
        {"/api/jobs/" + id + "/progress", R"({"percent":101,"message":"m"})"},
        {"/api/jobs/" + id + "/progress", R"({"percent":-1,"message":"m"})"},
        {"/api/jobs/" + id + "/progress", R"({"percent":1.5,"message":"m"})"},
        {"/api/jobs/" + id + "/progress", R"({"percent":"1","message":"m"})"},
        {"/api/jobs/" + id + "/progress", R"({"percent":1})"},
        {"/api/jobs/" + id + "/done", R"({"reason":"x"})"},
        {"/api/jobs/" + id + "/failed", R"({"reason":5})"},
    };
    for (auto const& [target, body] : cases) {
        auto const response = api.handle(post(target, body));
        EXPECT_EQ(response.result(), http::status::bad_request) << target << " " << body;
        EXPECT_EQ(error_code(response), "bad_request") << target << " " << body;
    }
    auto get = post("/api/jobs/" + id, "");
    get.method(http::verb::get);
    EXPECT_EQ(json::parse(api.handle(get).body()).at("seq"), 0) << "nothing was reported";
}

TEST_F(server_api_test, job_endpoints_answer_503_while_unavailable)
{
    auto api = make();
    unavailable = "the backplane is unavailable";
    auto const response = api.handle(post("/api/jobs", R"({"label":"l"})"));
    EXPECT_EQ(response.result(), http::status::service_unavailable);
    EXPECT_EQ(error_code(response), "unavailable");
    EXPECT_EQ(jobs->size(), 0u);
    EXPECT_TRUE(published.empty());
}

TEST_F(server_api_test, a_batch_larger_than_the_limit_is_refused)
{
    auto api = make({}, {.max_batch = 2});
    auto const response = api.handle(
        post("/api/publish",
             R"({"messages":[{"topic":"a","text":"1"},{"topic":"a","text":"2"},{"topic":"a","text":"3"}]})"));
    EXPECT_EQ(response.result(), http::status::bad_request);
    EXPECT_TRUE(published.empty());
}

TEST_F(server_api_test, while_unavailable_it_answers_503_with_the_reason)
{
    auto api = make();
    unavailable = "the server is shutting down";
    auto const response = api.handle(post("/api/publish", R"({"topic":"t","text":"x"})"));
    EXPECT_EQ(response.result(), http::status::service_unavailable);
    EXPECT_EQ(error_code(response), "unavailable");
    EXPECT_NE(response.body().find("shutting down"), std::string::npos);
    EXPECT_TRUE(published.empty());
}

TEST_F(server_api_test, past_the_burst_requests_get_429_with_retry_after)
{
    api_settings settings;
    settings.requests_per_second = 0.001;  // nothing comes back within the test
    settings.burst = 3;
    auto api = make(settings);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(api.handle(post("/api/publish", R"({"topic":"t","text":"x"})")).result(), http::status::ok);
    auto const response = api.handle(post("/api/publish", R"({"topic":"t","text":"x"})"));
    EXPECT_EQ(response.result(), http::status::too_many_requests);
    EXPECT_EQ(error_code(response), "rate_limited");
    EXPECT_EQ(response[http::field::retry_after], "1");
    EXPECT_EQ(published.size(), 3u);
}

TEST_F(server_api_test, wrong_keys_are_refused_before_the_rate_limit_counts_them)
{
    api_settings settings;
    settings.requests_per_second = 0.001;
    settings.burst = 1;
    auto api = make(settings);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(api.handle(post("/api/publish", "{}", "Bearer wrong")).result(), http::status::unauthorized);
    EXPECT_EQ(api.handle(post("/api/publish", R"({"topic":"t","text":"x"})")).result(), http::status::ok)
        << "strangers cannot use up the key's budget";
}

}  // namespace
}  // namespace coropush::api
