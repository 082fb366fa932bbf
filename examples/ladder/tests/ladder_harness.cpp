// The ladder's test harness (see ladder_harness.hpp).
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#ifndef COROPUSH_LADDER_DIR
#error "COROPUSH_LADDER_DIR (where the build puts the ladder's executables) must be defined by the build"
#endif

namespace coropush::testing::ladder {
namespace asio = boost::asio;

child_process start_step(asio::any_io_executor executor, std::string const& step)
{
    return child_process(std::move(executor), std::string(COROPUSH_LADDER_DIR) + "/" + step, {"0"},
                         captured_output::standard_output);
}

asio::awaitable<std::uint16_t> listening_port(child_process& step)
{
    auto const line = co_await step.wait_for_line("listening on");
    require(step.output().rfind("listening on 127.0.0.1:", 0) == 0, "the first line says where the step listens");
    co_return port_from_log_line(line);
}

asio::awaitable<client::ws_client> connect(std::uint16_t port)
{
    client::connect_options options;
    options.port = port;
    options.subprotocols = {};
    co_return co_await client::ws_client::connect(std::move(options));
}

asio::awaitable<void> send_request(client::ws_client& c, std::string type, std::uint64_t id, boost::json::object data)
{
    boost::json::object message;
    message["type"] = type;
    message["id"] = id;
    if (!data.empty())
        message["data"] = std::move(data);
    co_await c.send_text(boost::json::serialize(message));
}

asio::awaitable<void> send_hello(client::ws_client& c, std::uint64_t id)
{
    co_await send_request(c, "hello", id);
}

asio::awaitable<protocol::envelope> expect(client::ws_client& c, std::string type)
{
    auto message = co_await c.receive_envelope();
    if (message.type != type)
        throw client::unexpected_message("expected a " + type + " message, got a " + message.type + " " +
                                         boost::json::serialize(message.data));
    co_return message;
}

std::string text_of(protocol::envelope const& e, std::string_view field)
{
    if (auto const* value = e.data.if_contains(field); value && value->is_string())
        return std::string(value->get_string());
    return {};
}

double seconds_since(clock::time_point start)
{
    return std::chrono::duration<double>(clock::now() - start).count();
}

void expect_between(double seconds, double at_least, double below, std::string_view what)
{
    EXPECT_GE(seconds, at_least) << what << " came early, after " << seconds << " s";
    EXPECT_LT(seconds, below) << what << " came late, after " << seconds << " s";
}

asio::awaitable<void> check_hello_then_notice(client::ws_client& c, std::uint64_t id)
{
    auto const sent = clock::now();
    co_await send_hello(c, id);
    auto const welcome = co_await expect(c, "welcome");
    EXPECT_EQ(welcome.id, id);
    auto const notice = co_await expect(c, "notice");
    expect_between(seconds_since(sent), notice_at_least, notice_below, "the notice");
    EXPECT_FALSE(notice.id.has_value()) << "a push answers no request, so it carries no id";
}

}  // namespace coropush::testing::ladder
