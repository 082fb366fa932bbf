// The raw echo endpoint (--echo-path) for WebSocket conformance suites, which expect an echo server.
#pragma once

#include "core/message_handler.hpp"
#include "core/outbound.hpp"

namespace coropush::service {

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

}  // namespace coropush::service
