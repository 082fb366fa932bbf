// libFuzzer target: the server API's request bodies (POST /api/publish with the right key).
// Properties checked beyond "does not crash": the answer is 200 or 400 with a JSON body; an
// error has a code and a message; a 200 published exactly the messages it counts, each as a
// message envelope the codec reads back with the topic it was published to.
#include "api/server_api.hpp"
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
namespace http = boost::beast::http;

void check(bool condition)
{
    if (!condition)
        std::abort();
}

constexpr char key[] = "fuzzing-key";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace coropush;
    std::vector<std::pair<std::string, std::string>> published;  // topic, envelope
    api::api_settings settings;
    settings.key = key;
    settings.requests_per_second = 0;  // no limit: every input reaches the parser
    api::server_api api(settings, api::api_services{[&](std::string const& topic, shared_payload const& envelope) {
                                                        published.emplace_back(topic, *envelope);
                                                        return std::size_t{1};
                                                    },
                                                    [] { return std::optional<std::string>(); },
                                                    [](std::string_view) { return std::size_t{0}; }});

    api::http_request request{http::verb::post, "/api/publish", 11};
    request.set(http::field::authorization, std::string("Bearer ") + key);
    request.set(http::field::content_type, "application/json");
    request.body().assign(reinterpret_cast<char const*>(data), size);
    request.prepare_payload();
    auto const response = api.handle(request);

    boost::system::error_code ec;
    auto const answer = boost::json::parse(response.body(), ec);
    check(!ec && answer.is_object());
    if (response.result() == http::status::ok) {
        auto const& delivered = answer.as_object().at("delivered");
        check(delivered.is_array() ? delivered.as_array().size() == published.size() : published.size() == 1);
        for (auto const& [topic, envelope] : published) {
            auto const parsed = protocol::parse_envelope(envelope);
            check(parsed && parsed->type == "message" && parsed->data.at("topic").as_string() == topic);
        }
    } else {
        check(response.result() == http::status::bad_request);
        check(published.empty());
        auto const& error = answer.as_object().at("error").as_object();
        check(!error.at("code").as_string().empty() && !error.at("message").as_string().empty());
    }
    return 0;
}
