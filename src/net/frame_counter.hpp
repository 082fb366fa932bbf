// Counts the whole messages in a stream of WebSocket frames as its bytes go by, without keeping
// them: the batching layer (batching_stream.hpp, rule 9) feeds it every byte it hands up to Beast,
// so the session knows how many messages Beast has received, and, against the number it has read,
// whether Beast holds another whole one in its buffer. Beast 1.81 does not say.
//
// A message ends with a data or continuation frame whose FIN bit is set (RFC 6455 5.2, 5.4);
// control frames (ping, pong, close) are no messages. Only the header is looked at: two bytes,
// the extended length (2 or 8 bytes) and the masking key (4 bytes) when the mask bit is set. A
// header may arrive in pieces; the payload is skipped. A stream that breaks the protocol makes the
// count meaningless, but Beast fails that connection anyway.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace coropush::net {

class frame_counter {
public:
    // The next `size` bytes of the stream.
    void consume(unsigned char const* bytes, std::size_t size) noexcept
    {
        while (size > 0) {
            if (payload_left_ > 0) {
                auto const skipped = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size));
                bytes += skipped;
                size -= skipped;
                payload_left_ -= skipped;
                if (payload_left_ == 0 && ends_message_)
                    ++messages_;
                continue;
            }
            header_[have_++] = *bytes++;
            --size;
            if (have_ < 2 || have_ < header_size())
                continue;
            frame_started();
        }
    }

    // Whole messages seen so far.
    std::uint64_t messages() const noexcept { return messages_; }

private:
    // The header's size, from its first two bytes.
    std::size_t header_size() const noexcept
    {
        auto const length = header_[1] & 0x7fU;
        std::size_t const extended = length == 126 ? 2 : length == 127 ? 8 : 0;
        std::size_t const mask = (header_[1] & 0x80U) != 0 ? 4 : 0;
        return 2 + extended + mask;
    }

    // The header is complete: the payload's length, and whether the frame ends a message.
    void frame_started() noexcept
    {
        auto const length = header_[1] & 0x7fU;
        std::uint64_t payload = length;
        if (length >= 126) {
            std::size_t const bytes = length == 126 ? 2 : 8;
            payload = 0;
            for (std::size_t i = 0; i < bytes; ++i)
                payload = (payload << 8) | header_[2 + i];
        }
        bool const fin = (header_[0] & 0x80U) != 0;
        bool const control = (header_[0] & 0x08U) != 0;
        ends_message_ = fin && !control;
        have_ = 0;
        payload_left_ = payload;
        if (payload == 0 && ends_message_)
            ++messages_;
    }

    std::array<unsigned char, 14> header_{};
    std::size_t have_ = 0;            // header bytes seen of the frame that is starting
    std::uint64_t payload_left_ = 0;  // payload bytes of the current frame still to go by
    bool ends_message_ = false;       // the current frame is the last of its message
    std::uint64_t messages_ = 0;
};

}  // namespace coropush::net
