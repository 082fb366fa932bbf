// The raw echo endpoint (--echo-path) for WebSocket conformance suites, which expect an echo server.
#pragma once

#include "config/options.hpp"
#include "core/endpoints.hpp"
#include "core/message_handler.hpp"
#include "core/outbound.hpp"

namespace coropush::demo {

// Its endpoint: --echo-path (register it only when that is set), any subprotocol or none,
// messages up to --echo-max-message-bytes. Open to any page: it returns the client's own bytes.
websocket_endpoint echo_endpoint(server_options const& options);

// The raw echo endpoint for conformance suites: every message goes back unchanged, text as text,
// binary as binary.
class echo_dialect final : public message_handler {
public:
    explicit echo_dialect(outbox& out)
        : out_(out)
    {
    }

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;

private:
    outbox& out_;
};

}  // namespace coropush::demo
