// Chooses the backplane from --backplane: in-process when empty, Redis for redis://HOST:PORT.
#pragma once

#include "config/options.hpp"
#include "pubsub/backplane.hpp"

#include <memory>

namespace boost::asio {
class io_context;
}

namespace coropush::pubsub {

// Throws std::invalid_argument for a URL it cannot use.
std::unique_ptr<backplane> make_backplane(server_options const& options, boost::asio::io_context& io);

}  // namespace coropush::pubsub
