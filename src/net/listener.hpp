// The accept loop: one coroutine that accepts connections and starts a session coroutine for each.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace coropush::net {

class session_context;

boost::asio::awaitable<void> listen(std::shared_ptr<session_context> server);

}  // namespace coropush::net
