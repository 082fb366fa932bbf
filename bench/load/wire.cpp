// Upgrade request, client frames, server frame parsing.
#include "load/wire.hpp"

namespace bench {
namespace {

std::uint32_t next_mask()
{
    static std::uint32_t state = 0x9e3779b9u;  // xorshift32: valid, varied, and nearly free
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

}  // namespace

std::string upgrade_request(std::string_view host, std::string_view path, std::string_view subprotocol)
{
    std::string r;
    r.reserve(256);
    r.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
    r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
    if (!subprotocol.empty())
        r.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    r.append("\r\n");
    return r;
}

void append_frame(std::string& out, opcode op, std::string_view payload)
{
    auto const n = payload.size();
    out.push_back(static_cast<char>(0x80 | op));
    if (n < 126) {
        out.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xffff) {
        out.push_back(static_cast<char>(0x80 | 126));
        out.push_back(static_cast<char>((n >> 8) & 0xff));
        out.push_back(static_cast<char>(n & 0xff));
    } else {
        out.push_back(static_cast<char>(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((std::uint64_t{n} >> shift) & 0xff));
    }
    auto const mask = next_mask();
    char const key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16), static_cast<char>(mask >> 8),
                         static_cast<char>(mask)};
    out.append(key, 4);
    auto const start = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < n; ++i)
        out[start + i] = static_cast<char>(out[start + i] ^ key[i & 3]);
}

parse_result parse_frame(std::string_view data, frame_view& frame, std::size_t& consumed)
{
    if (data.size() < 2)
        return parse_result::incomplete;
    auto const b0 = static_cast<unsigned char>(data[0]);
    auto const b1 = static_cast<unsigned char>(data[1]);
    if ((b1 & 0x80) != 0 || (b0 & 0x70) != 0)
        return parse_result::violation;  // a server never masks; no extension was negotiated
    std::size_t length = b1 & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
        if (data.size() < 4)
            return parse_result::incomplete;
        length = (std::size_t{static_cast<unsigned char>(data[2])} << 8) | static_cast<unsigned char>(data[3]);
        header = 4;
    } else if (length == 127) {
        if (data.size() < 10)
            return parse_result::incomplete;
        length = 0;
        for (std::size_t i = 2; i < 10; ++i)
            length = (length << 8) | static_cast<unsigned char>(data[i]);
        header = 10;
    }
    if (data.size() - header < length)
        return parse_result::incomplete;
    frame.op = static_cast<opcode>(b0 & 0x0f);
    frame.fin = (b0 & 0x80) != 0;
    frame.payload = data.substr(header, length);
    consumed = header + length;
    return parse_result::complete;
}

}  // namespace bench
