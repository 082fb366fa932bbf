// Who a verified token says a client is, and which topics it may use.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace coropush::auth {

// Made only by token_verifier, from a token whose signature and times have been checked. An
// anonymous client has no identity (a null pointer where one is expected).
struct identity {
    std::string subject;                            // "sub": the user id; never empty
    std::chrono::system_clock::time_point expires;  // "exp": when the session must end or present a new token
    std::vector<std::string> subscribe;             // "subscribe": topic patterns it may subscribe to
    std::vector<std::string> publish;               // "publish": topic patterns it may publish to
};

}  // namespace coropush::auth
