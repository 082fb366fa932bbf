// Shared client steps for the integration suites.
#include "support/json_clients.hpp"

#include "support/test_server.hpp"

namespace coropush::testing {
using boost::asio::awaitable;
using client::ws_client;

client::connect_options json(std::uint16_t port, std::string path)
{
    client::connect_options o;
    o.port = port;
    o.path = std::move(path);
    return o;
}

client::connect_options plain(std::uint16_t port, std::string path)
{
    auto o = json(port, std::move(path));
    o.subprotocols.clear();
    return o;
}

awaitable<ws_client> subscriber(std::uint16_t port, std::string topic)
{
    return subscriber(json(port), std::move(topic));
}

awaitable<ws_client> subscriber(client::connect_options options, std::string topic)
{
    auto c = co_await ws_client::connect(options);
    protocol::subscribe const request{std::move(topic)};
    co_await c.send(request, 1);
    auto const reply = co_await c.receive_as<protocol::subscribed>();
    require(reply.second == 1u, "subscribed with the request's id");
    co_return c;
}

awaitable<std::uint64_t> publish(ws_client& c, std::string topic, std::string text, std::uint64_t id)
{
    protocol::publish const request{std::move(topic), std::move(text)};
    co_await c.send(request, id);
    auto const [published, reply_id] = co_await c.receive_as<protocol::published>();
    require(reply_id == id, "published carries the request's id");
    co_return published.delivered;
}

awaitable<std::string> start_job(ws_client& c, protocol::job_start const& request, std::uint64_t id)
{
    co_await c.send(request, id);
    auto const [started, reply_id] = co_await c.receive_as<protocol::job_started>();
    require(reply_id == id, "job_started carries the request's id");
    co_return started.job;
}

awaitable<std::string> next_text(ws_client& c)
{
    auto const [message, id] = co_await c.receive_as<protocol::message>();
    require(!id.has_value(), "a topic message carries no id");
    require(message.text.has_value(), "a topic message with text");
    co_return *message.text;
}

awaitable<protocol::authenticated> authenticate(ws_client& c, std::string const& token, std::uint64_t id)
{
    protocol::auth const request{token};
    co_await c.send(request, id);
    auto const [reply, reply_id] = co_await c.receive_as<protocol::authenticated>();
    require(reply_id == id, "authenticated carries the request's id");
    co_return reply;
}

awaitable<ws_client> signed_in(std::uint16_t port, std::string const& token)
{
    auto c = co_await ws_client::connect(json(port));
    co_await authenticate(c, token, 1);
    co_return c;
}

awaitable<void> still_open(ws_client& c, std::uint64_t id)
{
    protocol::echo const ping{"still here?"};
    co_await c.send(ping, id);
    auto const [echo, echo_id] = co_await c.receive_as<protocol::echo>();
    require(echo_id == id && echo.text == ping.text, "the connection stayed open");
}

}  // namespace coropush::testing
