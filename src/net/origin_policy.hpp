// Which browser origins may open a WebSocket here. Browsers send Origin on every upgrade and let
// any page connect anywhere, so this check is what stops a foreign page from using a visitor's
// browser against this server (cross-site WebSocket hijacking).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coropush::net {

// `allowed` empty: the default policy. An upgrade is accepted when it has no Origin (not a
// browser), when Origin names the host the client asked for (Host header: same origin), or when
// Origin is a loopback page (localhost, 127.0.0.1, [::1], any port) for local development.
// `allowed` not empty: only an exact (case-insensitive) match, or "*" for any origin.
bool origin_allowed(std::string_view origin, std::string_view host, std::vector<std::string> const& allowed);

}  // namespace coropush::net
