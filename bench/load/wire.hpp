// The client side of RFC 6455, as much as a load generator needs: the upgrade request, masked
// client frames, and a parser for the server's (unmasked) frames. No allocation per frame: the
// parser hands out views into the connection's read buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

enum opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// "GET <path> HTTP/1.1 ... Upgrade: websocket ...", offering `subprotocol` unless it is empty.
std::string upgrade_request(std::string_view host, std::string_view path, std::string_view subprotocol);

// Appends one masked client frame (FIN set). The mask comes from a cheap generator: a load
// generator needs valid frames, not unpredictable ones.
void append_frame(std::string& out, opcode op, std::string_view payload);

struct frame_view {
    opcode op = text;
    bool fin = true;
    std::string_view payload;
};

enum class parse_result { complete, incomplete, violation };

// Parses one server frame at the start of `data`. On `complete`, `consumed` is its size.
parse_result parse_frame(std::string_view data, frame_view& frame, std::size_t& consumed);

}  // namespace bench
