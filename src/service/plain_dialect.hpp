// The original demo's behaviour, byte for byte: every text message is answered with the welcome
// text and, after the push delay, the notice text. Chosen when the client offers no subprotocol.
#pragma once

#include "config/options.hpp"
#include "core/endpoints.hpp"
#include "core/message_handler.hpp"
#include "core/outbound.hpp"
#include "service/demo_replies.hpp"

namespace coropush::service {

// Its endpoint: "/" and "/ws" for a client offering no subprotocol this server speaks, messages up
// to --max-message-bytes. Open to any page, a file:// one included (the original demo's page): it
// answers fixed texts.
websocket_endpoint plain_endpoint(demo_replies const& demo, server_options const& options);

class plain_dialect final : public message_handler {
public:
    plain_dialect(outbox& out, demo_replies const& demo)
        : out_(out),
          demo_(demo)
    {
    }

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;

private:
    outbox& out_;
    demo_replies const& demo_;
};

}  // namespace coropush::service
