// One TCP connection's whole life as one coroutine (see session.cpp, and the README's walkthrough).
#pragma once

#include "net/session_context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>

namespace coropush::net {

// Serves HTTP requests on `socket` and, when one asks for an upgrade that is accepted, runs the
// WebSocket session until it closes. The coroutine owns the socket; `server` is kept alive by it.
// `shard`: the server's shard that the socket's executor, and this coroutine's, belong to.
// `http_slot`: the connection's place under --max-http-connections, released at the upgrade.
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<session_context> server,
                                         std::size_t shard, session_context::http_slot http_slot);

}  // namespace coropush::net
