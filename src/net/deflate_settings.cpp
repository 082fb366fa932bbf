// The permessage-deflate settings. What they cost, in Beast 1.81 (sizes read from its sources and
// measured, bench/README.md): a session that negotiated the extension holds Beast's compressor and
// decompressor objects (13 KiB of tables) from the handshake on; its first compressed message out
// adds the compressor's buffers, 4 * 2^window_bits + 2^(mem_level + 9) bytes, and its first message
// out of any size Beast's 4 KiB write buffer; its first compressed message in adds the
// decompressor's window, 2^(the client's window bits) bytes. All of it stays until the session
// ends, with or without context takeover (Beast resets its compressor between messages but keeps
// the buffers), so the window sizes are what bound the memory, and they are kept small here.
#include "net/deflate_settings.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace coropush::net {
namespace {

namespace websocket = boost::beast::websocket;

// 1 KiB windows. Without context takeover every message is compressed on its own, so a window
// much larger than a message finds nothing more to refer to: on JSON envelopes of 0.3 to 7 KB, and
// on 4 MiB of repeated JSON, 10 bits compress within 2 % of the largest window (15 bits, 32 KiB),
// and the compressor's buffers are 8 KiB instead of Beast's default 136 KiB.
constexpr int window_bits = 10;
// The compressor's hash table and symbol buffer: 2^(3 + 9) = 4 KiB of the 8.
constexpr int mem_level = 3;
// zlib's own default. Beast's default, 8, compressed the same samples no smaller, and slower;
// level 1 is fast but found 5 times less on long repetitive messages.
constexpr int compression_level = 6;
// Smaller messages go out as they are: alone, a small JSON message shrinks by a few dozen bytes
// (63 bytes to 54, 147 to 100), and a session that only ever sends small ones (the demo's texts,
// most replies) never allocates the compressor's buffers.
constexpr std::size_t smallest_compressed = 256;

// Whether an offer names client_max_window_bits, which lets the server choose the client's window
// (RFC 7692 7.1.2.2). Chromium and Node ws offer it; Firefox offers a bare "permessage-deflate".
// Beast reads every permessage-deflate offer of the header as one, and so does this.
bool lets_server_choose_client_window(std::string_view offer)
{
    for (auto const& extension : boost::beast::http::ext_list(offer)) {
        if (!boost::beast::iequals(extension.first, "permessage-deflate"))
            continue;
        for (auto const& parameter : extension.second)
            if (boost::beast::iequals(parameter.first, "client_max_window_bits"))
                return true;
    }
    return false;
}

// Whether an offer asks the server for a window of 8 bits (server_max_window_bits=8). zlib's raw
// deflate has no 8-bit window (it makes it 9), and Beast answers such an offer with 9, which RFC
// 7692 7.1.2.1 forbids (the answer may not be larger than the offer): such an offer is declined.
bool asks_for_an_8_bit_server_window(std::string_view offer)
{
    for (auto const& extension : boost::beast::http::ext_list(offer)) {
        if (!boost::beast::iequals(extension.first, "permessage-deflate"))
            continue;
        for (auto const& parameter : extension.second)
            if (boost::beast::iequals(parameter.first, "server_max_window_bits") &&
                (parameter.second == "8" || parameter.second == "\"8\""))
                return true;
    }
    return false;
}

}  // namespace

websocket::permessage_deflate deflate_settings(std::string_view offer, bool context_takeover)
{
    websocket::permessage_deflate settings;
    settings.server_enable = !asks_for_an_8_bit_server_window(offer);
    settings.server_max_window_bits = window_bits;
    // Where the offer does not let the server choose, the RFC forbids naming the client's window
    // and Beast, asked for less than 15 bits, would decline the extension altogether: such a
    // client compresses with its own 32 KiB window, and the decompressor keeps one as large.
    settings.client_max_window_bits = lets_server_choose_client_window(offer) ? window_bits : 15;
    // No context takeover unless asked: each message is compressed alone. With a context shared
    // across messages, the compressed size of a message someone else can shape (a topic message)
    // depends on what the session was sent before (a private message), and sizes show on the
    // wire: the side channel of CRIME and BREACH. It costs ratio on streams of small similar
    // messages, which --deflate-context-takeover buys back, and no memory either way (above).
    settings.server_no_context_takeover = !context_takeover;
    settings.client_no_context_takeover = !context_takeover;
    settings.compLevel = compression_level;
    settings.memLevel = mem_level;
    settings.msg_size_threshold = smallest_compressed;
    return settings;
}

}  // namespace coropush::net
