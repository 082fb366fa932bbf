// The application's own WebSocket close codes. RFC 6455 7.4.2 leaves 4000-4999 to applications;
// these follow HTTP where it has a word for the case (4401: 401 Unauthorized). docs/protocol.md
// lists them beside the standard codes the server sends.
#pragma once

#include <cstdint>

namespace coropush::protocol::close_codes {

// The application's backend closed every session of this user (logout, a ban).
inline constexpr std::uint16_t disconnected = 4000;
// The session's token expired and no fresh one came in time.
inline constexpr std::uint16_t token_expired = 4001;
// --auth required: no valid token within --handshake-timeout of the upgrade.
inline constexpr std::uint16_t authentication_required = 4401;

}  // namespace coropush::protocol::close_codes
