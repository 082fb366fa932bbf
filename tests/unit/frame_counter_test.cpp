// frame_counter: whole messages counted in a stream of WebSocket frames, whatever the pieces the
// bytes arrive in. The frames are built here by hand, byte by byte, as RFC 6455 5.2 lays them out.
#include "net/frame_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace coropush::net {
namespace {

enum opcode : unsigned char { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xa };

// One frame: FIN or not, the opcode, masked (as a client sends) or not, and `payload_size` bytes.
std::vector<unsigned char> frame(opcode op, bool fin, std::uint64_t payload_size, bool masked = true)
{
    std::vector<unsigned char> bytes{static_cast<unsigned char>((fin ? 0x80 : 0x00) | op)};
    unsigned char const mask_bit = masked ? 0x80 : 0x00;
    if (payload_size < 126) {
        bytes.push_back(mask_bit | static_cast<unsigned char>(payload_size));
    } else {
        int const length_bytes = payload_size <= 0xffff ? 2 : 8;
        bytes.push_back(mask_bit | (length_bytes == 2 ? 126 : 127));
        for (int i = length_bytes - 1; i >= 0; --i)
            bytes.push_back(static_cast<unsigned char>(payload_size >> (8 * i)));
    }
    if (masked)
        bytes.insert(bytes.end(), {0x12, 0x34, 0x56, 0x78});
    // The payload's bytes look like headers (0x81 0xfe...): the counter must skip them, not read them.
    bytes.insert(bytes.end(), payload_size, 0x81);
    return bytes;
}

std::vector<unsigned char> operator+(std::vector<unsigned char> a, std::vector<unsigned char> const& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Feeds `stream` in pieces of `piece` bytes; the count after each piece.
std::vector<std::uint64_t> counts_by_piece(std::vector<unsigned char> const& stream, std::size_t piece)
{
    frame_counter counter;
    std::vector<std::uint64_t> counts;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
        counter.consume(stream.data() + at, std::min(piece, stream.size() - at));
        counts.push_back(counter.messages());
    }
    return counts;
}

std::uint64_t messages_in(std::vector<unsigned char> const& stream, std::size_t piece)
{
    return counts_by_piece(stream, piece).back();
}

// Two frames of each length encoding, byte by byte: the count goes up exactly at the last byte of
// each, so the counter found where the first ended and the second began.
TEST(frame_counter, counts_each_message_at_its_last_byte_for_every_length_encoding)
{
    struct shape {
        std::uint64_t payload;
        bool masked;
    };
    for (auto const [payload, masked] :
         {shape{0, true}, shape{10, true}, shape{125, true}, shape{126, true}, shape{65535, true}, shape{65536, true},
          shape{5, false}, shape{300, false}, shape{70000, false}}) {
        auto const one = frame(text, true, payload, masked);
        auto const counts = counts_by_piece(one + one, 1);
        std::vector<std::uint64_t> expected(counts.size(), 0);
        for (std::size_t at = one.size() - 1; at < expected.size(); ++at)
            expected[at] = at < 2 * one.size() - 1 ? 1 : 2;
        EXPECT_EQ(counts, expected) << payload << " bytes, " << (masked ? "masked" : "unmasked");
    }
}

TEST(frame_counter, counts_every_message_whatever_the_pieces_it_arrives_in)
{
    auto const stream = frame(text, true, 0) + frame(text, true, 125) + frame(binary, true, 126) +
                        frame(text, true, 65535) + frame(binary, true, 65536) + frame(text, true, 5, false);
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{4096}, stream.size()})
        EXPECT_EQ(messages_in(stream, piece), 6u) << "in pieces of " << piece;
}

TEST(frame_counter, a_fragmented_message_counts_once_at_its_final_fragment)
{
    auto const stream = frame(text, false, 3) + frame(continuation, false, 300) + frame(continuation, true, 2);
    auto const counts = counts_by_piece(stream, 1);
    EXPECT_EQ(counts[counts.size() - 2], 0u);
    EXPECT_EQ(counts.back(), 1u);
}

TEST(frame_counter, control_frames_are_not_messages_even_between_fragments)
{
    auto const stream = frame(ping, true, 4) + frame(text, false, 3) + frame(pong, true, 0) +
                        frame(continuation, true, 3) + frame(close, true, 2);
    for (std::size_t piece : {std::size_t{1}, std::size_t{5}, stream.size()})
        EXPECT_EQ(messages_in(stream, piece), 1u) << "in pieces of " << piece;
}

}  // namespace
}  // namespace coropush::net
