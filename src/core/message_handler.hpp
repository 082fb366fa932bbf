// What a session does with the messages it reads: the part that differs between the dialects
// (the original plain-text demo, the coropush.v1 JSON envelopes, the raw echo endpoint).
// The session owns the transport; a handler owns the meaning and answers through an outbox.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string_view>
#include <utility>

namespace coropush {

class message_handler {
public:
    virtual ~message_handler() = default;
    // A message: answer it, or start the work that will (await_before_next_read). `text` and
    // `data` stay valid until the handler returns, or, when it has handed the session work to
    // await, until that work ends.
    virtual void on_text(std::string_view text) = 0;
    virtual void on_binary(std::string_view data) = 0;
    // The session has ended: release what it held (subscriptions, job watches).
    virtual void on_closed() {}

    // For the session's reader: the work the last message started (see below); not valid() if none.
    boost::asio::awaitable<void> take_awaited_work() { return std::move(awaited_); }

protected:
    // How a handler co_awaits: from on_text or on_binary, hand the session a coroutine, and the
    // session's reader awaits it before it reads the next message, on the session's strand. So a
    // message that needs a database, a backend or a timer is answered in order, and the next
    // message waits for it (the client's bytes wait in the socket meanwhile). The handler, its
    // outbox and the message stay alive until the work ends. Keep it short: while it runs, the
    // session reads nothing, so the client's pongs and close frame wait too (the keep-alive may
    // close a session that waits longer than --ping-timeout). An exception the work throws closes
    // the session with 1011 (internal error); the server goes on.
    // Once per message: a second call replaces the first work, which then never runs.
    void await_before_next_read(boost::asio::awaitable<void> work)
    {
        std::swap(awaited_, work);  // (awaitable's move assignment would leak a replaced frame)
    }

private:
    boost::asio::awaitable<void> awaited_;  // not valid(): nothing to await
};

}  // namespace coropush
