// The plain-text demo dialect.
#include "demo/plain_dialect.hpp"

#include <memory>

namespace coropush::demo {

websocket_endpoint plain_endpoint(server_options const& options)
{
    auto const replies = std::make_shared<plain_replies const>(
        plain_replies{make_payload(options.welcome_text), make_payload(options.notice_text), options.push_delay});
    return websocket_endpoint{
        "plain", {"/", "/ws"},
        "",      options.max_message_bytes,
        false,   [replies](outbox& out) { return std::make_unique<plain_dialect>(out, *replies); }};
}

void plain_dialect::on_text(std::string_view)
{
    // What the original Node server did on every message: reply now, push again a second later.
    out_.send(text_message(replies_.welcome));
    out_.send_after(replies_.push_delay, text_message(replies_.notice));
}

void plain_dialect::on_binary(std::string_view)
{
    // The demo only speaks text. 1003 is the close code for "a type of data it cannot accept".
    out_.close(1003, "binary messages are not supported");
}

}  // namespace coropush::demo
