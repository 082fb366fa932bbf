// A TLS stream as the WebSocket stream above it sees it (the server's TLS sessions, and the
// client's wss:// connections): reads and writes reach the TLS stream through two functions
// compiled once (tls_transport.cpp).
//
// Why. The WebSocket stream calls its next layer with a handler of its own for each of its
// operations (a read, a write, a ping, a close, and the batching layer's ops inside them), and a
// TLS stream builds its whole state machine (Asio's ssl::detail::io_op) for each handler type.
// Instantiated for every one of them, the TLS session was the largest translation unit of the
// build, three times the plain session in the compiler's front end alone, and the client's TLS
// half about half of the client's. Here the handler is type-erased (tls_transport::io_handler:
// one allocation per operation, small beside TLS's own work) and the buffers come as one
// buffer, so the TLS stream's operations are built once.
//
// The teardown after a close is the one operation left as a template (see async_teardown below).
//
// What it keeps of the TLS stream's behaviour:
//  - a read fills the first non-empty buffer it is given, as the TLS stream itself does;
//  - a gathered write is flattened the way Beast's ssl_stream does it (beast::flat_stream): the
//    buffers that fit in 16 KiB, a TLS record's payload, are copied into one and leave as one
//    record; a larger first buffer is written as it is. A write may take fewer bytes than it is
//    given (write_some's contract); the batching layer above writes the rest.
// One write at a time, as for any stream (a websocket stream writes one frame at a time; on the
// server, the batching layer above also guarantees it, its rule 5), so the copy in `flat_` is
// never overwritten while the TLS stream still reads it.
#pragma once

#include "core/tcp_drain.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/compose.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <concepts>
#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace coropush {

// The stream a TLS connection runs on, from its handshake to its end. Beast's ssl_stream: Asio's
// TLS stream behind a layer that hands OpenSSL a gathered write as one buffer. Under it a
// tcp_stream, whose timer gives the handshake and each HTTP request their deadlines. A plain
// server session lets go of its tcp_stream after the upgrade and keeps the bare socket; a TLS
// session cannot (its TLS state lives in this stream), so it keeps the tcp_stream, timer switched
// off: the WebSocket layer keeps time itself.
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

class tls_transport {
public:
    using executor_type = tls_stream::executor_type;
    using next_layer_type = tls_stream;
    // A read's or a write's handler, type-erased. Its associated executor is the one the handler
    // had (the session's), kept as an any_io_executor: Beast's tcp_stream posts to it with
    // blocking.never, which the executor any_completion_handler reports does not support before
    // Boost 1.82. Its allocator and cancellation slot are the handler's own.
    class io_handler {
    public:
        using executor_type = boost::asio::any_io_executor;
        using allocator_type =
            boost::asio::any_completion_handler_allocator<void, void(boost::beast::error_code, std::size_t)>;
        using cancellation_slot_type = boost::asio::cancellation_slot;

        template <class Handler>
        io_handler(Handler&& handler, executor_type const& fallback)
            : executor_(boost::asio::get_associated_executor(handler, fallback)),
              handler_(std::forward<Handler>(handler))
        {
        }

        executor_type get_executor() const noexcept { return executor_; }
        allocator_type get_allocator() const noexcept { return handler_.get_allocator(); }
        cancellation_slot_type get_cancellation_slot() const noexcept { return handler_.get_cancellation_slot(); }

        void operator()(boost::beast::error_code ec, std::size_t bytes) { std::move(handler_)(ec, bytes); }

    private:
        executor_type executor_;
        boost::asio::any_completion_handler<void(boost::beast::error_code, std::size_t)> handler_;
    };

    // The largest gathered write copied into one buffer: a TLS record's payload.
    static constexpr std::size_t flatten_limit = std::size_t{16} * 1024;

    // Constructs the TLS stream from `args`: a TLS stream moved in (the server's, after its
    // handshake), or an executor and an ssl::context (the client's, before its).
    template <class... Args>
    requires std::constructible_from<tls_stream, Args...>
    explicit tls_transport(Args&&... args)
        : stream_(std::forward<Args>(args)...)
    {
    }

    executor_type get_executor() noexcept { return stream_.get_executor(); }
    // beast::get_lowest_layer reaches the socket through this.
    next_layer_type& next_layer() noexcept { return stream_; }
    next_layer_type const& next_layer() const noexcept { return stream_; }

    template <class MutableBufferSequence, class ReadToken>
    auto async_read_some(MutableBufferSequence const& buffers, ReadToken&& token)
    {
        return boost::asio::async_initiate<ReadToken, void(boost::beast::error_code, std::size_t)>(
            initiate_read{*this}, token, first_buffer(buffers));
    }

    template <class ConstBufferSequence, class WriteToken>
    auto async_write_some(ConstBufferSequence const& buffers, WriteToken&& token)
    {
        return boost::asio::async_initiate<WriteToken, void(boost::beast::error_code, std::size_t)>(
            initiate_write{*this}, token, flatten(buffers));
    }

    // The compiled halves (tls_transport.cpp).
    void start_read(boost::asio::mutable_buffer into, io_handler handler);
    void start_write(boost::asio::const_buffer bytes, io_handler handler);

private:
    struct initiate_read {
        tls_transport& self;
        template <class Handler>
        void operator()(Handler&& handler, boost::asio::mutable_buffer into) const
        {
            self.start_read(into, io_handler(std::forward<Handler>(handler), self.get_executor()));
        }
    };

    struct initiate_write {
        tls_transport& self;
        template <class Handler>
        void operator()(Handler&& handler, boost::asio::const_buffer bytes) const
        {
            self.start_write(bytes, io_handler(std::forward<Handler>(handler), self.get_executor()));
        }
    };

    template <class MutableBufferSequence>
    static boost::asio::mutable_buffer first_buffer(MutableBufferSequence const& buffers)
    {
        auto const end = boost::asio::buffer_sequence_end(buffers);
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it)
            if (boost::asio::mutable_buffer const piece = *it; piece.size() != 0)
                return piece;
        return {};
    }

    // The bytes one write_some sends: the first non-empty buffer alone, or, when the ones after
    // it fit within flatten_limit with it, a copy of them all.
    template <class ConstBufferSequence>
    boost::asio::const_buffer flatten(ConstBufferSequence const& buffers)
    {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto const end = boost::asio::buffer_sequence_end(buffers);
        while (it != end && boost::asio::const_buffer(*it).size() == 0)
            ++it;
        if (it == end)
            return {};
        boost::asio::const_buffer const first = *it;
        std::size_t size = first.size();
        bool gathered = false;
        for (auto next = std::next(it); size < flatten_limit && next != end; ++next) {
            auto const more = boost::asio::const_buffer(*next).size();
            if (size + more > flatten_limit)
                break;
            size += more;
            gathered = gathered || more != 0;
        }
        if (!gathered) {
            flat_ = {};  // a connection that writes single buffers holds no copy
            return first;
        }
        flat_.resize(size);
        boost::asio::buffer_copy(boost::asio::buffer(flat_), buffers, size);
        return boost::asio::buffer(flat_);
    }

    tls_stream stream_;
    std::vector<char> flat_;  // the copy a gathered write sends
};

namespace detail {

// The teardown of a TLS connection after a WebSocket close: the close_notify exchange (ours,
// then the peer's), then the TCP connection's end, read to the peer's FIN (tcp_drain_op, as for a
// plain socket; Beast's own TCP teardown would stop after one read and reset the connection).
// When application data comes after our close_notify, the rest of a message over
// --max-message, OpenSSL 3 fails the exchange ("application data after close notify"): the drain
// then reads and drops the rest as TCP bytes, so the close does not reset the connection before
// the peer has read the close frame. What the teardown reports is how the connection ended, the
// drain's outcome: the exchange's failure says nothing more once the peer has ended cleanly.
struct tls_teardown_op {
    tls_stream& stream;
    boost::beast::role_type role;
    enum class step { shut_down, drain, done } at = step::shut_down;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {})
    {
        switch (at) {
        case step::shut_down:
            at = step::drain;
            return stream.async_shutdown(std::move(self));
        case step::drain:  // whatever the exchange's outcome
            at = step::done;
            return async_drain_teardown(role, stream.next_layer().socket(), std::move(self));
        case step::done:
            return self.complete(ec);
        }
    }
};

}  // namespace detail

// Beast's websocket close ends with a teardown of the next layer (found by argument-dependent
// lookup): detail::tls_teardown_op. Not type-erased: it is built for the one handler the batching
// layer's teardown passes (and the client's websocket stream its own).
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, tls_transport& transport, TeardownHandler&& handler)
{
    boost::asio::async_compose<TeardownHandler, void(boost::beast::error_code)>(
        detail::tls_teardown_op{transport.next_layer(), role}, handler, transport.next_layer());
}

}  // namespace coropush
