// The plain-text demo dialect.
#include "service/plain_dialect.hpp"

namespace coropush::service {

websocket_endpoint plain_endpoint(demo_replies const& demo, server_options const& options)
{
    return websocket_endpoint{"plain", {"/", "/ws"},
                              "",      options.max_message_bytes,
                              false,   [&demo](outbox& out) { return std::make_unique<plain_dialect>(out, demo); }};
}

void plain_dialect::on_text(std::string_view)
{
    // What the original Node server did on every message: reply now, push again a second later.
    out_.send(text_message(demo_.plain_welcome));
    out_.send_after(demo_.push_delay, text_message(demo_.plain_notice));
}

void plain_dialect::on_binary(std::string_view)
{
    // The demo only speaks text. 1003 is the close code for "a type of data it cannot accept".
    out_.close(1003, "binary messages are not supported");
}

}  // namespace coropush::service
