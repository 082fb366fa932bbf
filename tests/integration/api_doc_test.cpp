// docs/api.md and the server say the same thing: every example request in the document is sent to
// a real server, and its answer must be the example answer that follows it (status, content type,
// and the same JSON); a ```json block shows the message the subscribers then receive. Job ids are
// random: once an answer gives a job id where the document wrote another, the real one replaces
// the document's in every later example.
#include "client/ws_client.hpp"
#include "support/json_clients.hpp"
#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace coropush::testing {
namespace {
using boost::asio::awaitable;

struct doc_block {
    std::string language;  // "http" or "json"
    std::string text;
};

std::vector<doc_block> api_doc_blocks()
{
    std::ifstream file(source_directory() / "docs" / "api.md");
    std::vector<doc_block> blocks;
    std::string line;
    std::optional<doc_block> open;
    while (std::getline(file, line)) {
        if (line.starts_with("```")) {
            if (open) {
                if (open->language == "http" || open->language == "json")
                    blocks.push_back(std::move(*open));
                open.reset();
            } else {
                open = doc_block{line.substr(3), {}};
            }
            continue;
        }
        if (open)
            open->text += line + "\n";
    }
    return blocks;
}

// An example split at its blank line: the start line and headers, and the body.
struct http_example {
    std::string start_line;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

http_example parse_example(std::string const& text)
{
    http_example example;
    std::istringstream in(text);
    std::getline(in, example.start_line);
    std::string line;
    while (std::getline(in, line) && !line.empty()) {
        auto const colon = line.find(':');
        auto name = line.substr(0, colon);
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        example.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    std::getline(in, example.body, '\0');
    while (!example.body.empty() && example.body.back() == '\n')
        example.body.pop_back();
    return example;
}

// The document's job ids, and the server's for them.
class job_ids {
public:
    std::string in(std::string text) const
    {
        for (auto const& [written, real] : ids_)
            for (auto at = text.find(written); at != std::string::npos; at = text.find(written, at + real.size()))
                text.replace(at, written.size(), real);
        return text;
    }
    // After an answer: a "job" in it that the document wrote differently.
    void learn(boost::json::value const& written, boost::json::value const& real)
    {
        auto const* a = written.if_object() ? written.get_object().if_contains("job") : nullptr;
        auto const* b = real.if_object() ? real.get_object().if_contains("job") : nullptr;
        if (a && b && a->is_string() && b->is_string() && *a != *b)
            ids_[std::string(a->get_string())] = std::string(b->get_string());
    }

private:
    std::map<std::string, std::string> ids_;
};

std::string as_request(http_example const& example)
{
    std::string request = example.start_line + "\r\nHost: localhost\r\n";
    for (auto const& [name, value] : example.headers)
        request.append(name).append(": ").append(value).append("\r\n");
    return request + "Content-Length: " + std::to_string(example.body.size()) + "\r\n\r\n" + example.body;
}

TEST(api_doc, every_example_request_gets_the_documented_answer)
{
    auto options = test_options();
    options.api_key = "secret-api-key";  // the key the examples use
    test_server server(options);
    auto const blocks = api_doc_blocks();
    run_client([&]() -> awaitable<void> {
        std::vector<client::ws_client> subscribers;
        subscribers.push_back(co_await subscriber(server.port(), "orders/42"));
        subscribers.push_back(co_await subscriber(server.port(), "orders/42"));
        std::size_t exchanges = 0;
        std::size_t messages = 0;
        job_ids ids;
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            if (blocks[i].language == "json") {
                auto const expected = boost::json::parse(ids.in(blocks[i].text));
                for (auto& s : subscribers) {
                    auto const in = co_await s.receive();
                    EXPECT_EQ(boost::json::parse(in.payload), expected) << "the message after example " << exchanges;
                }
                ++messages;
                continue;
            }
            require(i + 1 < blocks.size() && blocks[i + 1].language == "http", "a request is followed by its answer");
            auto const request = parse_example(ids.in(blocks[i].text));
            auto const written = parse_example(blocks[++i].text);
            auto connection = co_await raw_connection::connect(server.port());
            co_await connection.write(as_request(request));
            auto const reply = co_await connection.read_http();
            auto const answer = boost::json::parse(reply.body);
            ids.learn(boost::json::parse(written.body), answer);
            auto const expected = parse_example(ids.in(blocks[i].text));
            auto const status = expected.start_line.substr(9, 3);
            EXPECT_EQ(std::to_string(reply.status), status) << request.start_line << " " << request.body;
            EXPECT_EQ(reply.headers.at("content-type"), expected.headers.at("content-type"));
            EXPECT_EQ(answer, boost::json::parse(expected.body)) << request.start_line << " " << request.body;
            ++exchanges;
        }
        EXPECT_EQ(exchanges, 12u) << "the examples in docs/api.md";
        EXPECT_EQ(messages, 5u);
    });
}

}  // namespace
}  // namespace coropush::testing
