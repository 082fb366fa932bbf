// The JSON dialect's answer to `hello`, the original demo's flow in the typed protocol: a welcome
// with the configured text now, and the notice pushed a second later (--welcome, --notice,
// --push-delay). The notice is serialized once per server and shared by every session.
#pragma once

#include "core/outbound.hpp"

#include <chrono>
#include <string>

namespace coropush::service {

struct demo_replies {
    shared_payload json_notice;
    std::string welcome_text;
    std::chrono::steady_clock::duration push_delay{};
};

}  // namespace coropush::service
