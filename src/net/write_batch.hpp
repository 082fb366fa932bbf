// What the batching layer holds between the writes Beast makes and the one write that sends them:
// the bytes, their bounds, and whether the next write joins them. No sockets here: the layer that
// does the I/O, and why it exists, is in net/batching_stream.hpp.
#pragma once

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <vector>

namespace coropush::net {

class write_batch {
public:
    // A gathered write carries at most `max_writes` writes, of which all but the last were copied
    // (at most `max_bytes` in all). The bound on writes bounds how long the first frame of a batch
    // waits for the others; the bound on bytes bounds the copy and the memory a connection holds.
    // A write larger than `max_write_held` is never copied: it is worth a system call of its own,
    // and a large frame reaches the layer in pieces of 64 KiB (asio::async_write's transfer size),
    // which would otherwise be copied one in two.
    struct limits {
        std::size_t max_bytes = std::size_t{64} * 1024;
        std::size_t max_writes = 64;
        std::size_t max_write_held = std::size_t{16} * 1024;
    };

    // What becomes of the next write of `bytes`:
    enum class plan {
        hold,      // copied into the batch; the write completes at once
        pass,      // nothing is held, and the batch is closed or the write does not fit: written as it is
        send_all,  // what is held, then this write, in one gathered write
    };

    write_batch() = default;
    explicit write_batch(limits bounds) noexcept
        : limits_(bounds)
    {
    }

    void set_limits(limits bounds) noexcept { limits_ = bounds; }
    limits const& bounds() const noexcept { return limits_; }

    void open() noexcept { open_ = true; }
    void close() noexcept { open_ = false; }
    bool is_open() const noexcept { return open_; }

    plan plan_for(std::size_t bytes) const noexcept;

    // Copies one write (a whole buffer sequence: one frame, as Beast hands it down) into the batch.
    template <class ConstBufferSequence>
    void hold(ConstBufferSequence const& buffers)
    {
        reserve_for(boost::asio::buffer_size(buffers));
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            boost::asio::const_buffer const piece = *it;
            append(piece);
        }
        ++writes_;
    }

    bool empty() const noexcept { return writes_ == 0; }
    std::size_t writes() const noexcept { return writes_; }
    std::size_t bytes() const noexcept { return held_.size(); }
    boost::asio::const_buffer held() const noexcept { return boost::asio::buffer(held_); }
    // Storage in use (for tests: a batch that has been sent holds none).
    std::size_t capacity() const noexcept { return held_.capacity(); }

    // The first `bytes` held were written (a partial write): the rest stays held, in order.
    void consume(std::size_t bytes) noexcept;
    // What was held has been written (or has failed): the storage is given back, so a connection
    // that goes idle after a flush keeps no buffer.
    void clear() noexcept;

private:
    void reserve_for(std::size_t bytes);
    void append(boost::asio::const_buffer piece);

    limits limits_;
    std::vector<char> held_;
    std::size_t writes_ = 0;
    bool open_ = false;
};

}  // namespace coropush::net
