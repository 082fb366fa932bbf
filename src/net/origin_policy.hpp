// Which browser origins may open a JSON-dialect WebSocket here. Browsers send Origin on every
// upgrade and let any page connect anywhere, so this check is what stops a foreign page from using
// a visitor's browser against this server (cross-site WebSocket hijacking).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coropush::net {

// `origin` is the Origin header's value; it is parsed as a URL (Boost.URL), and only a well-formed
// origin counts: "null", or http/https "://" host [":" port] with nothing else (no user, path,
// query or fragment; a port of 1 to 65535). Scheme and host compare case-insensitively.
// `allowed` empty: the default policy. An upgrade is accepted when it has no Origin (not a
// browser), when Origin names the host the client asked for (Host header: same host and port),
// or when Origin is a loopback page (localhost, 127.x.x.x, [::1], any port) for local development.
// `allowed` not empty: only a well-formed origin in the list (case-insensitive), or any origin at
// all when the list holds "*".
bool origin_allowed(std::string_view origin, std::string_view host, std::vector<std::string> const& allowed);

// What is wrong with `value` as an --allow-origin entry, or nothing: "*", "null", or an origin as
// a browser sends it. An entry that no browser's Origin can equal (a trailing slash, a path, no
// scheme, the scheme's default port, which browsers leave out) would refuse its site's pages
// without a word: the command line refuses it instead, saying what to write.
std::optional<std::string> allowed_origin_problem(std::string_view value);

// Why `origin` was refused, for the log: the origin (quoted, unprintable bytes escaped) and the
// --allow-origin value that would let it in, or why none would.
std::string origin_refusal_note(std::string_view origin, std::vector<std::string> const& allowed);

}  // namespace coropush::net
