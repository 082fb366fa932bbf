// base64url decoding.
#include "auth/base64url.hpp"

#include <cstdint>

namespace coropush::auth {
namespace {

// The 6-bit value of a base64url character, or -1.
int sextet(char c) noexcept
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

}  // namespace

std::optional<std::string> decode_base64url(std::string_view text)
{
    // Every 4 characters carry 3 bytes; a last group of 2 or 3 carries 1 or 2. A lone last
    // character carries less than a byte: no encoder writes that.
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string bytes;
    bytes.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (char const c : text) {
        int const value = sextet(c);
        if (value < 0)
            return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            bytes.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
        }
    }
    return bytes;
}

}  // namespace coropush::auth
