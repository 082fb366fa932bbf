// Small steps the integration suites share, on the library's own client (JSON dialect).
#pragma once

#include "client/ws_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

namespace coropush::testing {

// Connect options for a loopback port: the JSON dialect (subprotocol coropush.v1), or the plain
// text dialect of the original demo (no subprotocol).
client::connect_options json(std::uint16_t port, std::string path = "/");
client::connect_options plain(std::uint16_t port, std::string path = "/");

// A client subscribed to `topic` (request id 1): on a loopback port, JSON dialect, or connected
// with `options` (over TLS, say).
boost::asio::awaitable<client::ws_client> subscriber(std::uint16_t port, std::string topic);
boost::asio::awaitable<client::ws_client> subscriber(client::connect_options options, std::string topic);

// Publishes on `topic` and returns `published.delivered`.
boost::asio::awaitable<std::uint64_t> publish(client::ws_client& c, std::string topic, std::string text,
                                              std::uint64_t id);

// Starts a job and returns its id (the job_started reply must carry `id`).
boost::asio::awaitable<std::string> start_job(client::ws_client& c, protocol::job_start const& request,
                                              std::uint64_t id);

// The text of the next topic message.
boost::asio::awaitable<std::string> next_text(client::ws_client& c);

// Sends an `auth` message with `token` and returns the `authenticated` reply.
boost::asio::awaitable<protocol::authenticated> authenticate(client::ws_client& c, std::string const& token,
                                                             std::uint64_t id);
// A client authenticated with `token` (request id 1).
boost::asio::awaitable<client::ws_client> signed_in(std::uint16_t port, std::string const& token);

// Checks that the connection still answers: an echo (request `id`) comes back.
boost::asio::awaitable<void> still_open(client::ws_client& c, std::uint64_t id);

}  // namespace coropush::testing
