// One TCP connection's whole life as one coroutine (see session.cpp, and the README's walkthrough).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>

namespace coropush::net {

class session_context;

// Serves HTTP requests on `socket` and, when one asks for an upgrade that is accepted, runs the
// WebSocket session until it closes. The coroutine owns the socket; `server` is kept alive by it.
// `shard`: the server's shard that the socket's executor, and this coroutine's, belong to.
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<session_context> server,
                                         std::size_t shard);

}  // namespace coropush::net
