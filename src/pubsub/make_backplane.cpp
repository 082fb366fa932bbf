// Backplane selection.
#include "pubsub/make_backplane.hpp"

#include <stdexcept>

namespace coropush {

std::unique_ptr<backplane> make_backplane(server_options const& options, boost::asio::io_context&)
{
    if (options.backplane.empty())
        return std::make_unique<in_process_backplane>();
    throw std::invalid_argument("backplane " + options.backplane + " is not supported yet");
}

}  // namespace coropush
