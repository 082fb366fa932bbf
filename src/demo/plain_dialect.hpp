// The original demo's behaviour, byte for byte: every text message is answered with the welcome
// text and, after the push delay, the notice text. Chosen when the client offers no subprotocol.
#pragma once

#include "config/options.hpp"
#include "core/endpoints.hpp"
#include "core/message_handler.hpp"
#include "core/outbound.hpp"

#include <chrono>

namespace coropush::demo {

// Its two replies, serialized once per endpoint and shared by every session there.
struct plain_replies {
    shared_payload welcome;
    shared_payload notice;
    std::chrono::steady_clock::duration push_delay{};
};

// Its endpoint: "/" and "/ws" for a client offering no subprotocol this server speaks, messages up
// to --max-message-bytes, the replies from --welcome, --notice and --push-delay. Open to any page,
// a file:// one included (the original demo's page): it answers fixed texts.
websocket_endpoint plain_endpoint(server_options const& options);

class plain_dialect final : public message_handler {
public:
    plain_dialect(outbox& out, plain_replies const& replies)
        : out_(out),
          replies_(replies)
    {
    }

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;

private:
    outbox& out_;
    plain_replies const& replies_;  // the endpoint's, which outlives its sessions
};

}  // namespace coropush::demo
