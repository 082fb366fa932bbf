// The raw echo dialect: a copy of each message goes back with the same opcode.
#include "demo/echo_dialect.hpp"

namespace coropush::demo {

websocket_endpoint echo_endpoint(server_options const& options)
{
    return websocket_endpoint{"echo", {options.echo_path},
                              "",     options.echo_max_message_bytes,
                              false,  [](outbox& out) { return std::make_unique<echo_dialect>(out); }};
}

void echo_dialect::on_text(std::string_view text)
{
    out_.send_copy(text, false);
}

void echo_dialect::on_binary(std::string_view data)
{
    out_.send_copy(data, true);
}

}  // namespace coropush::demo
