// What the ladder's tests share: a step started as a child process on port 0, and the client
// steps its tests take again and again (the library's own client, src/client/ws_client.hpp).
#pragma once

#include "client/ws_client.hpp"
#include "support/child_process.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace coropush::testing::ladder {

using clock = std::chrono::steady_clock;

// The step's executable ("ladder-01-one-coroutine") started with port 0; its stdout is captured.
child_process start_step(boost::asio::any_io_executor executor, std::string const& step);

// The port in the step's first line of output, "listening on 127.0.0.1:PORT".
boost::asio::awaitable<std::uint16_t> listening_port(child_process& step);

// A client of the step. It offers no subprotocol: the ladder speaks one message format.
boost::asio::awaitable<client::ws_client> connect(std::uint16_t port);

// Sends {"type":type,"id":id,"data":data} ("data" left out when empty).
boost::asio::awaitable<void> send_request(client::ws_client& c, std::string type, std::uint64_t id,
                                          boost::json::object data = {});
boost::asio::awaitable<void> send_hello(client::ws_client& c, std::uint64_t id);

// The next message, which must be of `type`; throws (failing the test) when it is something else.
boost::asio::awaitable<protocol::envelope> expect(client::ws_client& c, std::string type);

// A string field of a message's data ("" when missing).
std::string text_of(protocol::envelope const& e, std::string_view field);

// Seconds since `start`, and a check of both bounds on them.
double seconds_since(clock::time_point start);
void expect_between(double seconds, double at_least, double below, std::string_view what);

// The notice comes one second after the hello: never before 0.95 s, and within 5 s on any machine.
constexpr double notice_at_least = 0.95;
constexpr double notice_below = 5.0;

// The seed's exchange, which every step keeps: a hello (with `id`) is answered with a welcome
// carrying that id, then a notice one second after the hello.
boost::asio::awaitable<void> check_hello_then_notice(client::ws_client& c, std::uint64_t id);

}  // namespace coropush::testing::ladder
