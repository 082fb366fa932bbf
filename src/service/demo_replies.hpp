// The original demo's replies (the welcome, and the notice pushed a second later), serialized once
// per server and shared by every session of both dialects that answer them: the plain dialect's
// fixed texts and the JSON dialect's `hello`.
#pragma once

#include "core/outbound.hpp"

#include <chrono>
#include <string>

namespace coropush::service {

struct demo_replies {
    shared_payload plain_welcome;
    shared_payload plain_notice;
    shared_payload json_notice;
    std::string welcome_text;
    std::chrono::steady_clock::duration push_delay{};
};

}  // namespace coropush::service
