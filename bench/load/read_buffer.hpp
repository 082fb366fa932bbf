// A connection's receive buffer in the load tool: reads land at the end, messages are parsed in
// place from the start, and the unread rest moves to the front only when room runs short. It
// grows only for a message larger than itself, so a connection's reads allocate nothing.
#pragma once

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace bench {

class read_buffer {
public:
    // The bytes received and not consumed yet. Valid until the next prepare() or append().
    std::string_view unread() const noexcept { return {data_.data() + begin_, end_ - begin_}; }
    void consume(std::size_t n) noexcept { begin_ += n; }

    // Room for the next read (at least `least` bytes); commit() what the read put there.
    boost::asio::mutable_buffer prepare(std::size_t least = 4096)
    {
        if (begin_ == end_) {
            begin_ = end_ = 0;
        } else if (data_.size() - end_ < least) {
            std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (data_.size() - end_ < least)
            data_.resize(data_.size() * 2 + least);  // a message larger than the buffer
        return boost::asio::buffer(data_.data() + end_, data_.size() - end_);
    }
    void commit(std::size_t n) noexcept { end_ += n; }

    // Bytes that were read some other way (what came after an HTTP response read as a whole).
    void append(std::string_view bytes)
    {
        auto const room = prepare(bytes.size());
        std::memcpy(room.data(), bytes.data(), bytes.size());
        commit(bytes.size());
    }

private:
    std::vector<char> data_ = std::vector<char>(std::size_t{16} * 1024);
    std::size_t begin_ = 0;  // the unread bytes are [begin_, end_)
    std::size_t end_ = 0;
};

}  // namespace bench
