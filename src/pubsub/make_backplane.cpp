// Backplane selection.
#include "pubsub/make_backplane.hpp"

#include "pubsub/redis_backplane.hpp"
#include "pubsub/redis_url.hpp"

#include <stdexcept>

namespace coropush::pubsub {

std::unique_ptr<backplane> make_backplane(server_options const& options, boost::asio::io_context& io)
{
    if (options.backplane.empty())
        return std::make_unique<in_process_backplane>();
    auto const url = parse_redis_url(options.backplane);
    if (!url)
        throw std::invalid_argument("backplane " + options.backplane + " is not redis://HOST[:PORT][/NAMESPACE]");
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    redis_liveness_limits liveness;
    liveness.heartbeat_interval = duration_cast<milliseconds>(options.backplane_heartbeat);
    liveness.reply_timeout = duration_cast<milliseconds>(options.backplane_reply_timeout);
    liveness.max_unanswered_bytes = options.backplane_max_unanswered;
    return std::make_unique<redis_backplane>(io, *url, liveness);
}

}  // namespace coropush::pubsub
