// base64url (RFC 4648 §5), the encoding of a JWT's three parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coropush::auth {

// The bytes `text` encodes, written with [A-Za-z0-9-_] and without `=` padding as JWTs are;
// std::nullopt for any other character or an impossible length.
std::optional<std::string> decode_base64url(std::string_view text);

}  // namespace coropush::auth
