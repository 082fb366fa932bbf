// What a session does with the messages it reads: the part that differs between the dialects
// (the original plain-text demo, the coropush.v1 JSON envelopes, the raw echo endpoint).
// The session owns the transport; a handler owns the meaning and answers through an outbox.
#pragma once

#include <string_view>

namespace coropush {

class message_handler {
public:
    virtual ~message_handler() = default;
    virtual void on_text(std::string_view text) = 0;
    virtual void on_binary(std::string_view data) = 0;
    // The session has ended: release what it held (subscriptions, job watches).
    virtual void on_closed() {}
};

}  // namespace coropush
