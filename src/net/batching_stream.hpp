// A transport layer under Beast's websocket::stream that sends the frames a session's writer
// produces while it drains its queue in one gathered write, instead of one write per frame.
//
// Why. Beast 1.81 sends each message with a write of its own: a websocket stream allows one
// outstanding async_write, and it has no call that takes several messages (boostorg/beast#2033).
// A connection with four replies queued cost four sendmsg calls, and the send path was most of
// the server's CPU. Beast's layered-stream design lets a type sit between the websocket stream
// and the socket (websocket::stream<batching_stream<tcp::socket>>): Beast keeps the framing, the
// masking rules and its control frames; this layer only decides when the bytes reach the socket.
//
// The rules:
//  1. No batch open: a write passes straight through to the socket.
//  2. The session's writer opens a batch while it drains its queue. A write is then copied into
//     the batch and completes at once, while the batch stays within its bounds (write_batch:
//     64 KiB copied, 64 writes, no write over 16 KiB); a write that does not fit leaves with what
//     is held, in one gathered write.
//  3. When the queue is empty the writer flushes: the batch closes, what it holds leaves in one
//     write, and the storage is given back (an idle connection holds no buffer). flush_now does
//     that at once when the socket takes it all; async_flush awaits what it does not take.
//  4. What Beast writes by itself, a pong or the reply to a close, takes the same path: into the
//     batch, in Beast's order, while one is open; straight through otherwise. Beast holds its write
//     lock for a whole frame, so frames never interleave, and its teardown after a close (the
//     async_teardown below) flushes first, so the close reply never overtakes what is held.
//  5. One write reaches the socket at a time: a write or flush that arrives while another is in
//     flight waits for it (the writer's flush is not under Beast's write lock, and may meet a pong
//     that the reader's side of Beast is sending).
//  6. A failed write fails every later write and flush with the same error, so the session ends
//     on it; nothing waits forever (a waiting write is resumed when the one in flight fails).
//  7. A lone frame for an idle layer (no batch open, nothing held, no write in flight) can be
//     written at once, without Beast and without a writer (write_lone_frame): a fan-out's
//     delivery or a scheduled push to a connection with nothing else to send. What the socket
//     does not take is held, and leaves with the next write or flush, before anything else.
//     Where the next layer cannot be written without waiting (TLS), the frame is held and its
//     flush started at once instead (flush_lone_frame): the write is under way when the call
//     returns, and a plain callback learns when it is out.
//  8. The session may also copy a whole frame it framed itself into the open batch
//     (hold_frame), as if Beast had written it, while the frame fits the batch's bounds and no
//     write is in flight (what is held may be part of that write: rule 5): the writer while it
//     drains its queue, and the reader while it answers requests Beast has already received.
//  9. Every byte read passes a frame_counter on its way up to Beast, which counts the whole
//     messages in it (messages_received): a session that has read fewer than that knows Beast
//     holds another in its buffer, and that it will have it without waiting for the socket.
//
// Everything runs on the connection's shard, like the rest of the session: no locks. The layer
// is an AsyncStream only; the session makes no synchronous Beast calls (rule 7's frame is not
// Beast's: the session frames it, see websocket_session::send_now).
//
// Over a TCP socket (a plain session) the writer's flush is tried first as one non-blocking
// write. Over TLS (batching_stream<tls_transport>) there is no such thing: every flush is awaited,
// and the gathered write reaches the TLS stream as one buffer (tls_transport flattens it, as
// Beast's ssl_stream does), so a batch leaves as few TLS records as its size allows.
#pragma once

#include "core/tcp_drain.hpp"
#include "net/frame_counter.hpp"
#include "net/write_batch.hpp"

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_cat.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/saved_handler.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace coropush::net {

// Rule 9: the handler of a read, wrapped: counts the bytes read, then hands them on. It takes on
// the wrapped handler's executor, allocator and cancellation slot (the associator below).
template <class Handler, class Buffers>
struct counting_read_handler {
    Handler handler;
    frame_counter& counter;
    Buffers buffers;

    void operator()(boost::beast::error_code ec, std::size_t bytes)
    {
        // Nothing is touched when nothing was read: a read that ends with the layer gone (the
        // socket destroyed under it) brings no bytes.
        auto left = bytes;
        for (auto it = boost::asio::buffer_sequence_begin(buffers); left > 0; ++it) {
            boost::asio::mutable_buffer const buffer = *it;
            auto const n = std::min(left, buffer.size());
            counter.consume(static_cast<unsigned char const*>(buffer.data()), n);
            left -= n;
        }
        std::move(handler)(ec, bytes);
    }
};

template <class NextLayer>
class batching_stream {
public:
    using next_layer_type = NextLayer;
    using executor_type = typename NextLayer::executor_type;

    // Constructs the next layer from `args` (the socket, moved in).
    template <class... Args>
    explicit batching_stream(Args&&... args)
        : next_(std::forward<Args>(args)...)
    {
    }

    batching_stream(batching_stream const&) = delete;
    batching_stream& operator=(batching_stream const&) = delete;
    ~batching_stream() = default;

    // The next layer is a socket, which can be written without waiting (non_blocking + write_some).
    static constexpr bool writes_without_waiting = requires(NextLayer & layer, boost::beast::error_code& ec)
    {
        layer.non_blocking(true, ec);
    };

    executor_type get_executor() noexcept { return next_.get_executor(); }
    // beast::get_lowest_layer reaches the socket through this.
    next_layer_type& next_layer() noexcept { return next_; }
    next_layer_type const& next_layer() const noexcept { return next_; }

    void set_limits(write_batch::limits bounds) noexcept { batch_.set_limits(bounds); }
    // Rule 2: writes from now on are held, until the flush (flush_now or async_flush).
    void open_batch() noexcept { batch_.open(); }
    bool batch_open() const noexcept { return batch_.is_open(); }
    bool holds_writes() const noexcept { return !batch_.empty(); }
    std::size_t held_capacity() const noexcept { return batch_.capacity(); }
    // Writes made to the next layer since the last call (a gathered write is one).
    std::uint64_t take_writes() noexcept { return std::exchange(writes_, 0); }

    // Rule 9: the read passes straight through; what it brings is counted on the way up.
    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(MutableBufferSequence const& buffers, ReadToken&& token)
    {
        return boost::asio::async_initiate<ReadToken, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler, MutableBufferSequence const& into) {
                using handler_type = std::decay_t<decltype(handler)>;
                next_.async_read_some(into, counting_read_handler<handler_type, MutableBufferSequence>{
                                                std::move(handler), received_, into});
            },
            token, buffers);
    }

    // Rule 9: the whole messages among the bytes read so far.
    std::uint64_t messages_received() const noexcept { return received_.messages(); }

    // Completes with (error_code, bytes of `buffers` taken): all of them, unless it fails.
    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(ConstBufferSequence const& buffers, WriteToken&& token)
    {
        return boost::asio::async_compose<WriteToken, void(boost::beast::error_code, std::size_t)>(
            write_op<ConstBufferSequence>{*this, buffers}, token, next_);
    }

    // Rule 3: closes the batch and sends what it holds. Completes with (error_code).
    template <class FlushToken>
    auto async_flush(FlushToken&& token)
    {
        return boost::asio::async_compose<FlushToken, void(boost::beast::error_code)>(flush_op{*this}, token, next_);
    }

    // Rule 3 without waiting, for the usual case: closes the batch and sends what it holds in one
    // non-blocking write. True when nothing is left to send: it all went out, there was nothing,
    // or the connection has failed (then `ec` says why). False when the rest must be awaited with
    // async_flush: the socket did not take it all (a slow reader), a write is in flight (rule 5),
    // or the next layer cannot be written without waiting (TLS).
    // It saves the flush a round through the scheduler: a batch of one frame (a fan-out's lone
    // message) then costs what a write straight to the socket costs.
    bool flush_now(boost::beast::error_code& ec)
    {
        batch_.close();
        ec = failed_;
        if (failed_ || batch_.empty())
            return true;
        if (writing_ || !writes_without_waiting)
            return false;
        send_held_now(ec);
        if (ec) {
            failed_ = ec;
            batch_.clear();
            return true;
        }
        return batch_.empty();
    }

    // Sends `bytes` now, behind what the batch holds, in one non-blocking write, without waiting
    // for anything (for a frame Beast cannot be asked to send: see refuse_close_code). Refuses
    // (false) when a write is in flight, since the bytes would go around it, when the socket
    // does not take everything at once, and over TLS; the caller then drops the connection.
    bool write_now(boost::asio::const_buffer bytes, boost::beast::error_code& ec)
    {
        if (writing_ || failed_ || !writes_without_waiting)
            return false;
        batch_.hold(bytes);
        send_held_now(ec);
        if (!ec && batch_.empty())
            return true;
        if (!ec)
            ec = boost::asio::error::would_block;  // part of a frame may have gone out: the stream is torn
        failed_ = ec;
        batch_.clear();
        return false;
    }

    // Rule 8: copies `frame` (a whole WebSocket frame) into the open batch. False, and nothing
    // held, when no batch is open, the frame does not fit its bounds, a write is in flight or the
    // connection has failed: the caller then writes it through Beast.
    template <class ConstBufferSequence>
    bool hold_frame(ConstBufferSequence const& frame)
    {
        if (writing_ || failed_ || batch_.plan_for(boost::asio::buffer_size(frame)) != write_batch::plan::hold)
            return false;
        batch_.hold(frame);
        return true;
    }

    // Rule 7. What became of a lone frame:
    enum class lone_write {
        refused,    // not written: the layer is not idle, the socket would block, or the connection
                    // has failed (then `ec` says why, and every later write fails with it)
        sent,       // all of it went out
        rest_held,  // part went out; the rest is held, and a flush (or the next write) must send it
    };

    // Rule 7: writes `frame` (a whole WebSocket frame, header and payload) in one non-blocking
    // gathered write, when the layer is idle and the next layer is a socket (over TLS:
    // flush_lone_frame).
    template <class ConstBufferSequence>
    lone_write write_lone_frame(ConstBufferSequence const& frame, boost::beast::error_code& ec)
    {
        if constexpr (!writes_without_waiting) {
            return lone_write::refused;
        } else {
            ec = failed_;
            if (writing_ || failed_ || batch_.is_open() || !batch_.empty())
                return lone_write::refused;
            std::size_t written = 0;
            make_non_blocking(ec);
            if (!ec) {
                ++writes_;
                written = next_.write_some(frame, ec);
            }
            if (ec == boost::asio::error::would_block)
                ec = {};
            if (ec) {
                failed_ = ec;
                return lone_write::refused;
            }
            if (written == 0)
                return lone_write::refused;
            if (written == boost::asio::buffer_size(frame))
                return lone_write::sent;
            boost::beast::buffers_suffix<ConstBufferSequence> rest(frame);
            rest.consume(written);
            batch_.hold(rest);
            return lone_write::rest_held;
        }
    }

    // Rule 7 where the next layer cannot be written without waiting (TLS): holds `frame` (a whole
    // WebSocket frame) and starts its flush (async_flush), which calls `handler(error_code)` when
    // it is out; never from inside this call. False, with nothing held and the handler dropped,
    // when the layer is not idle, the connection has failed, or the frame does not fit a batch:
    // the caller then writes it another way.
    template <class ConstBufferSequence, class FlushHandler>
    bool flush_lone_frame(ConstBufferSequence const& frame, FlushHandler&& handler)
    {
        if (writing_ || failed_ || batch_.is_open() || !batch_.empty())
            return false;
        batch_.open();
        if (batch_.plan_for(boost::asio::buffer_size(frame)) != write_batch::plan::hold) {
            batch_.close();
            return false;
        }
        batch_.hold(frame);
        async_flush(std::forward<FlushHandler>(handler));
        return true;
    }

private:
    // Puts the socket in non-blocking mode for the writes that must not wait, once: each call of
    // non_blocking(true) is a system call (ioctl FIONBIO), which would cost one per write. The
    // socket's asynchronous operations are not affected by the mode.
    void make_non_blocking(boost::beast::error_code& ec)
    {
        if (non_blocking_)
            return;
        next_.non_blocking(true, ec);
        non_blocking_ = !ec;
    }

    // One non-blocking write of what the batch holds (never blocking the io thread); what the
    // socket does not take stays held. A full socket is not an error here.
    void send_held_now(boost::beast::error_code& ec)
    {
        if constexpr (writes_without_waiting) {
            make_non_blocking(ec);
            if (!ec) {
                ++writes_;
                batch_.consume(next_.write_some(batch_.held(), ec));
            }
            if (ec == boost::asio::error::would_block)
                ec = {};
        }
    }

    // Rule 5: parks the op until the write in flight is done (it is resumed by write_done, or
    // completed with operation_aborted if its caller cancels it meanwhile).
    template <class Self>
    bool wait_for_turn(Self& self)
    {
        if (!writing_)
            return false;
        waiting_.emplace(std::move(self));
        return true;
    }

    // A write to the socket has ended: the held bytes are out (or lost), the gate opens, and the
    // waiting op, if any, goes next.
    void write_done(boost::beast::error_code ec)
    {
        batch_.clear();
        writing_ = false;
        if (ec && !failed_)
            failed_ = ec;
        waiting_.maybe_invoke();
    }

    // An op must not complete inside the call that started it (Asio's rule: the initiator's stack
    // is not ready for its handler), so a result known at once is stored and delivered by a post.
    // An op resumed after waiting is already in a handler of its own, and completes directly.
    template <class Self, class Op>
    static void complete_now(Self& self, Op& op, bool initiating)
    {
        if (!initiating)
            return op.deliver(self);
        op.at = Op::step::posted;
        boost::asio::post(std::move(self));
    }

    template <class Buffers>
    struct write_op {
        batching_stream& s;
        Buffers buffers;
        enum class step { start, waited, posted, through, gathered } at = step::start;
        boost::beast::error_code result = {};
        std::size_t taken = 0;

        template <class Self>
        void deliver(Self& self)
        {
            self.complete(result, taken);
        }

        template <class Self>
        void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t written = 0)
        {
            switch (at) {
            case step::start:
            case step::waited: {
                bool const initiating = at == step::start;
                if (ec)
                    return self.complete(ec, 0);  // cancelled while it waited
                at = step::waited;
                if (s.wait_for_turn(self))
                    return;
                if (s.failed_) {
                    result = s.failed_;
                    return complete_now(self, *this, initiating);
                }
                auto const size = boost::asio::buffer_size(buffers);
                switch (s.batch_.plan_for(size)) {
                case write_batch::plan::hold:
                    s.batch_.hold(buffers);
                    taken = size;
                    return complete_now(self, *this, initiating);
                case write_batch::plan::pass:
                    at = step::through;
                    s.writing_ = true;
                    ++s.writes_;
                    return s.next_.async_write_some(buffers, std::move(self));
                case write_batch::plan::send_all:
                    at = step::gathered;
                    s.writing_ = true;
                    ++s.writes_;
                    return boost::asio::async_write(s.next_, boost::beast::buffers_cat(s.batch_.held(), buffers),
                                                    std::move(self));
                }
                return;
            }
            case step::posted:
                return deliver(self);
            case step::through:
                s.write_done(ec);
                return self.complete(ec, written);
            case step::gathered:
                s.write_done(ec);
                return self.complete(ec, ec ? 0 : boost::asio::buffer_size(buffers));
            }
        }
    };

    struct flush_op {
        batching_stream& s;
        enum class step { start, waited, posted, writing } at = step::start;
        boost::beast::error_code result = {};

        template <class Self>
        void deliver(Self& self)
        {
            self.complete(result);
        }

        template <class Self>
        void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t /*written*/ = 0)
        {
            switch (at) {
            case step::start:
                s.batch_.close();
                [[fallthrough]];
            case step::waited: {
                bool const initiating = at == step::start;
                if (ec)
                    return self.complete(ec);  // cancelled while it waited
                at = step::waited;
                if (s.wait_for_turn(self))
                    return;
                if (s.failed_ || s.batch_.empty()) {
                    result = s.failed_;
                    return complete_now(self, *this, initiating);
                }
                at = step::writing;
                s.writing_ = true;
                ++s.writes_;
                return boost::asio::async_write(s.next_, s.batch_.held(), std::move(self));
            }
            case step::posted:
                return deliver(self);
            case step::writing:
                s.write_done(ec);
                return self.complete(ec);
            }
        }
    };

    NextLayer next_;
    frame_counter received_;  // rule 9
    write_batch batch_;
    bool writing_ = false;                 // a write to the socket is in flight
    bool non_blocking_ = false;            // the socket is in non-blocking mode (make_non_blocking)
    std::uint64_t writes_ = 0;             // writes to the next layer, for take_writes()
    boost::beast::error_code failed_;      // the first write error, which every later write returns
    boost::beast::saved_handler waiting_;  // the op waiting for its turn (rule 5): at most one
};

namespace detail {

// Flushes the layer, then tears down the next layer (see async_teardown below).
template <class NextLayer>
struct batching_teardown_op {
    batching_stream<NextLayer>& s;
    boost::beast::role_type role;
    enum class step { flush, teardown, done } at = step::flush;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {})
    {
        switch (at) {
        case step::flush:
            at = step::teardown;
            return s.async_flush(std::move(self));
        case step::teardown: {
            if (ec)
                return self.complete(ec);
            at = step::done;
            if constexpr (std::is_same_v<NextLayer, boost::asio::ip::tcp::socket>) {
                return async_drain_teardown(role, s.next_layer(), std::move(self));  // core/tcp_drain.hpp
            } else {
                using boost::beast::websocket::async_teardown;
                return async_teardown(role, s.next_layer(), std::move(self));
            }
        }
        case step::done:
            return self.complete(ec);
        }
    }
};

}  // namespace detail

// Beast's websocket close ends with a teardown of the next layer, an overload found by
// argument-dependent lookup (Beast calls `async_teardown(role, next_layer, handler)`). Rule 4: what
// the batch holds (the close reply itself, when Beast wrote it into an open batch) goes out first;
// then the socket's own teardown (shut down sending, read to the end: tcp_drain_op, in place of
// Beast's for a plain socket).
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, batching_stream<NextLayer>& stream, TeardownHandler&& handler)
{
    boost::asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(
        detail::batching_teardown_op<NextLayer>{stream, role}, handler, stream.next_layer());
}

}  // namespace coropush::net

// The counting handler is the handler it wraps as far as Asio is concerned: the same executor (the
// session's strand, when it has one), allocator and cancellation slot.
template <template <class, class> class Associator, class Handler, class Buffers, class DefaultCandidate>
struct boost::asio::associator<Associator, coropush::net::counting_read_handler<Handler, Buffers>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(coropush::net::counting_read_handler<Handler, Buffers> const& h) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(coropush::net::counting_read_handler<Handler, Buffers> const& h,
                    DefaultCandidate const& candidate) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, candidate))
    {
        return Associator<Handler, DefaultCandidate>::get(h.handler, candidate);
    }
};
