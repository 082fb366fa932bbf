// Where a feature plugs its message types into the coropush.v1 dialect. The dialect answers the
// requests every server has itself (hello, echo, auth: a handler registered for one of those is
// never asked); a feature (topics, jobs) registers a handler for each of its own, and may keep
// state per connection, made on its first message there and told when the connection closes. A
// request type nobody registered is refused with unknown_type, as if the codec did not know it: a
// server built without a feature says so.
//
//   service::json_extensions extensions;
//   extensions.on<protocol::job_start>([&](json_dialect& connection, protocol::job_start const& r,
//                                          protocol::request_id id) { ... });
#pragma once

#include "protocol/messages.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coropush::service {

class json_dialect;

// What a feature keeps for one connection (the jobs it watches): json_dialect::state makes it on
// first use, and the connection destroys it after on_closed.
class connection_state {
public:
    virtual ~connection_state() = default;
    // The connection has ended: release what it holds elsewhere (a job's list of watchers).
    virtual void on_closed(json_dialect& connection) = 0;
};

class json_extensions {
public:
    // Answers a request of any type, already decoded and past the rate limit and --auth's
    // "authenticate first". On the connection's strand; it replies through `connection`.
    using handler =
        std::function<void(json_dialect& connection, protocol::request const& body, protocol::request_id id)>;

    // Has `handle` answer every request of the type `Request` (one of protocol::request). Before
    // the server starts; a second handler for a type replaces the first.
    template <class Request, class Handle>
    void on(Handle handle)
    {
        add(Request::type,
            [handle = std::move(handle)](json_dialect& connection, protocol::request const& body,
                                         protocol::request_id id) { handle(connection, std::get<Request>(body), id); });
    }
    void add(std::string_view type, handler handle);

    // The handler registered for a type, or null.
    handler const* find(std::string_view type) const noexcept;

    // A new slot for one feature's connection_state (json_dialect::state); before the server starts.
    std::size_t add_state_slot() noexcept { return state_slots_++; }
    std::size_t state_slots() const noexcept { return state_slots_; }

private:
    std::vector<std::pair<std::string, handler>> handlers_;  // a few: a linear search is fastest
    std::size_t state_slots_ = 0;
};

}  // namespace coropush::service
