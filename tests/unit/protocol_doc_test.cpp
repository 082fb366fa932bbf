// docs/protocol.md and the code say the same thing: every line of every ```json block in the
// document is an envelope the codec accepts, as a request or as a server message.
#include "protocol/codec.hpp"
#include "support/test_server.hpp"

#include <boost/describe/enumerators.hpp>
#include <boost/mp11/algorithm.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace coropush::protocol {
namespace {

std::vector<std::string> json_examples()
{
    std::ifstream file(testing::source_directory() / "docs" / "protocol.md");
    std::vector<std::string> lines;
    std::string line;
    bool in_block = false;
    while (std::getline(file, line)) {
        if (line.starts_with("```")) {
            in_block = !in_block && line == "```json";
            continue;
        }
        if (in_block && !line.empty())
            lines.push_back(line);
    }
    return lines;
}

template <class Message>
std::pair<std::string_view, std::function<std::string(envelope const&)>> server_message()
{
    return {Message::type, [](envelope const& e) {
                auto typed = data_as<Message>(e);
                return std::holds_alternative<Message>(typed) ? std::string() : std::get<std::string>(typed);
            }};
}

TEST(protocol_doc, every_json_example_is_accepted_by_the_codec)
{
    std::map<std::string_view, std::function<std::string(envelope const&)>> const server_messages{
        server_message<welcome>(),        server_message<notice>(),      server_message<echo>(),
        server_message<error>(),          server_message<subscribed>(),  server_message<unsubscribed>(),
        server_message<message>(),        server_message<published>(),   server_message<job_started>(),
        server_message<job_progress>(),   server_message<job_done>(),    server_message<job_failed>(),
        server_message<job_cancelling>(), server_message<job_resumed>(), server_message<authenticated>(),
    };
    auto const examples = json_examples();
    ASSERT_GE(examples.size(), 20u) << "docs/protocol.md lost its examples";
    std::set<std::string> types_seen;
    for (auto const& line : examples) {
        auto const e = parse_envelope(line);
        ASSERT_TRUE(e.has_value()) << "not an envelope: " << line;
        types_seen.insert(e->type);
        auto const decoded = decode_request(line);
        if (auto const* in = std::get_if<inbound>(&decoded)) {
            EXPECT_EQ(in->id, e->id) << line;
            continue;
        }
        auto const check = server_messages.find(e->type);
        ASSERT_NE(check, server_messages.end()) << "neither a request nor a server message: " << line;
        EXPECT_EQ(check->second(*e), "") << line;
    }
    // Every type the server knows appears in the document.
    for (auto const& [type, unused] : server_messages)
        EXPECT_TRUE(types_seen.contains(std::string(type))) << type << " has no example";
    for (auto const* request :
         {"hello", "echo", "auth", "subscribe", "unsubscribe", "publish", "job_start", "job_cancel", "job_resume"})
        EXPECT_TRUE(types_seen.contains(request)) << request << " has no example";
}

TEST(protocol_doc, every_error_code_is_documented)
{
    std::ifstream file(testing::source_directory() / "docs" / "protocol.md");
    std::stringstream text;
    text << file.rdbuf();
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<errc>>([&](auto d) {
        EXPECT_NE(text.str().find(std::string("| `") + d.name + "` |"), std::string::npos)
            << d.name << " is not in the error table";
    });
}

}  // namespace
}  // namespace coropush::protocol
