// What the two fan-out workloads share: N WebSocket subscribers on one topic, and a publisher
// that sends M messages one after another, each when the previous one is complete. They differ
// only in how the publisher reaches the server: a WebSocket `publish` (fanout) or the server
// API's `POST /api/publish` (apifanout). So the figures compare line by line.
#pragma once

#include "load/task_group.hpp"
#include "load/workloads.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// The state of one fan-out run, shared by its coroutines (all on one thread).
struct fanout_state {
    fanout_state(boost::asio::any_io_executor ex, std::size_t msgs, std::size_t size);

    signal progress;                      // a publish may be complete: the publisher looks again
    std::vector<std::string> texts;       // per message number: its text, made before the clock starts
    std::vector<std::uint32_t> received;  // per message number: subscribers that have it
    std::size_t subscribed = 0;           // subscribers whose `subscribed` reply has arrived
    std::uint64_t acknowledged = 0;       // the latest message the server has answered the publisher for
    std::uint64_t wrong_delivered = 0;    // answers whose `delivered` was not every subscriber
    std::uint64_t mismatches = 0;         // wrong messages, wrong answers
    std::uint64_t unexpected_closes = 0;
    bool refused = false;  // the server answered a publish with an error: the run stops
    bool done = false;

    // An answer to the publisher: message `number` was queued for `delivered` subscribers.
    void answered(std::uint64_t number, std::uint64_t delivered, std::size_t subscribers);
    // An answer that is not a publish's acknowledgement (an error): counted, and the run stops.
    void refuse();
    // The run cannot complete: a connection ended or a publish was refused.
    bool failed() const noexcept { return unexpected_closes > 0 || refused; }
};

// How the publisher speaks to the server.
class fanout_publisher {
public:
    virtual ~fanout_publisher() = default;
    // Connects. Returns an empty string, or what went wrong.
    virtual boost::asio::awaitable<std::string> open(settings const& s) = 0;
    // Sends message `number`, whose text is `text`, on topic "bench".
    virtual boost::asio::awaitable<bool> publish(std::uint64_t number, std::string_view text) = 0;
    // Reads the server's answers (one per message, in order) into state.answered() until `msgs`
    // have come, or the connection ends (then counts an unexpected close).
    virtual boost::asio::awaitable<void> read_answers(fanout_state& state, std::size_t msgs,
                                                      std::size_t subscribers) = 0;
    virtual void drop() noexcept = 0;
};

// The whole run, printed as one line "mode=<mode> subs=... p50_us=... deliveries_per_s=...".
boost::asio::awaitable<int> run_fanout_with(settings const& s, char const* mode, fanout_publisher& publisher);

}  // namespace bench
