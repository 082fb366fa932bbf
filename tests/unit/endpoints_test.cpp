// The table of WebSocket endpoints and HTTP routes (core/endpoints.hpp): which entry a request
// finds, and the registrations it refuses.
#include "core/endpoints.hpp"
#include "core/outbound.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace coropush {
namespace {

class ignoring_handler : public message_handler {
public:
    void on_text(std::string_view) override {}
    void on_binary(std::string_view) override {}
};

websocket_endpoint table_endpoint(std::string name, std::vector<std::string> paths, std::string subprotocol)
{
    return websocket_endpoint{std::move(name), std::move(paths), std::move(subprotocol), 100, false, [](outbox&) {
                                  return std::make_unique<ignoring_handler>();
                              }};
}

http_route table_route(std::string prefix, std::size_t max_body)
{
    return http_route{std::move(prefix), max_body,
                      [](http_request) -> boost::asio::awaitable<http_response> { co_return http_response{}; },
                      [](boost::beast::http::status status, std::string_view, std::string_view, unsigned version) {
                          return http_response{status, version};
                      }};
}

std::string table_name_at(endpoints const& table, std::string_view path, std::string_view offered)
{
    auto const* found = table.websocket_at(path, offered);
    return found ? found->name : "(none)";
}

TEST(endpoints, the_offered_subprotocol_chooses_and_no_offer_falls_back_to_the_plain_endpoint)
{
    endpoints table;
    table.add(table_endpoint("json", {"/", "/ws"}, "coropush.v1"));
    table.add(table_endpoint("v2", {"/"}, "coropush.v2"));
    table.add(table_endpoint("plain", {"/", "/ws"}, ""));
    table.add(table_endpoint("echo", {"/echo"}, ""));

    EXPECT_EQ(table_name_at(table, "/", "coropush.v1"), "json");
    EXPECT_EQ(table_name_at(table, "/ws", "chat, coropush.v1"), "json") << "any position in the offer";
    EXPECT_EQ(table_name_at(table, "/", "coropush.v2, coropush.v1"), "json") << "the first registered wins";
    EXPECT_EQ(table_name_at(table, "/", "coropush.v2"), "v2");
    EXPECT_EQ(table_name_at(table, "/ws", "coropush.v2"), "plain") << "v2 is not served at /ws";
    EXPECT_EQ(table_name_at(table, "/", ""), "plain");
    EXPECT_EQ(table_name_at(table, "/", "mqtt"), "plain") << "an offer the path does not speak";
    EXPECT_EQ(table_name_at(table, "/", "COROPUSH.V1"), "plain") << "names are case-sensitive";
    for (auto const* offer :
         {"coropush.v1@evil", "coropush.v1/x", "coropush.v1;q=1", "coropush.v1 foo", "coropush.v10"})
        EXPECT_EQ(table_name_at(table, "/", offer), "plain") << "the whole element, not its start: " << offer;
    EXPECT_EQ(table_name_at(table, "/", " \tchat ,\tcoropush.v1 \t"), "json") << "white space around elements";
    EXPECT_EQ(table_name_at(table, "/", ",,coropush.v1,"), "json") << "empty elements";
    EXPECT_EQ(table_name_at(table, "/echo", "coropush.v1"), "echo");
    EXPECT_EQ(table_name_at(table, "/nowhere", ""), "(none)");
    EXPECT_FALSE(table.has_websocket_path("/nowhere"));
}

TEST(endpoints, a_path_with_subprotocol_endpoints_only_refuses_a_client_offering_none_of_them)
{
    endpoints table;
    table.add(table_endpoint("json", {"/strict"}, "coropush.v1"));
    EXPECT_EQ(table_name_at(table, "/strict", "coropush.v1"), "json");
    EXPECT_EQ(table_name_at(table, "/strict", ""), "(none)");
    EXPECT_TRUE(table.has_websocket_path("/strict")) << "so the upgrade is refused with 400, not 404";
}

TEST(endpoints, clashing_and_unreachable_registrations_are_refused)
{
    endpoints table;
    table.add(table_endpoint("json", {"/", "/ws"}, "coropush.v1"));
    EXPECT_THROW(table.add(table_endpoint("again", {"/ws"}, "coropush.v1")), std::invalid_argument);
    EXPECT_NO_THROW(table.add(table_endpoint("plain", {"/ws"}, "")));
    EXPECT_THROW(table.add(table_endpoint("plain2", {"/ws"}, "")), std::invalid_argument);
    EXPECT_THROW(table.add(table_endpoint("relative", {"ws"}, "")), std::invalid_argument);
    EXPECT_THROW(table.add(table_endpoint("nowhere", {}, "")), std::invalid_argument);
    auto no_handler = table_endpoint("no handler", {"/x"}, "");
    no_handler.make_handler = nullptr;
    EXPECT_THROW(table.add(std::move(no_handler)), std::invalid_argument);

    table.add(table_route("/api/", 10));
    EXPECT_THROW(table.add(table_route("/api/", 20)), std::invalid_argument);
    EXPECT_THROW(table.add(table_route("", 20)), std::invalid_argument);
}

TEST(endpoints, a_request_finds_the_route_with_the_longest_prefix_of_its_path)
{
    endpoints table;
    EXPECT_EQ(table.route_for("/api/publish"), nullptr);
    EXPECT_EQ(table.largest_body(), 0u);
    table.add(table_route("/api/", 1000));
    table.add(table_route("/api/jobs/", 50));

    ASSERT_NE(table.route_for("/api/publish"), nullptr);
    EXPECT_EQ(table.route_for("/api/publish")->prefix, "/api/");
    EXPECT_EQ(table.route_for("/api")->prefix, "/api/") << "the prefix without its last '/'";
    EXPECT_EQ(table.route_for("/api/jobs/7?x=1")->prefix, "/api/jobs/");
    EXPECT_EQ(table.route_for("/api/jobs")->prefix, "/api/jobs/");
    EXPECT_EQ(table.route_for("/apiary"), nullptr);
    EXPECT_EQ(table.route_for("/index.html?q=/api/"), nullptr) << "the query is not the path";
    EXPECT_EQ(table.largest_body(), 1000u);
}

}  // namespace
}  // namespace coropush
