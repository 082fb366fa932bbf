// The WebSocket side of a connection: the handshake, then the session until the connection is
// over. While idle, a session is one coroutine, its reader; a writer coroutine runs beside it
// only while there is something to write:
//
//   reader            await each message; the dialect's handler answers it (queues replies)
//   writer            started when the queue goes from empty to non-empty (or a ping or the
//                     close frame is due); writes until there is nothing left, then returns
//
// Keep-alive pings, the closing handshake's time limits and scheduled pushes (the demo's notice)
// are deadlines kept by the server's deadline_scheduler (one timer per io thread), which tells
// the connection on its shard when one is due (connection::deadline_reached).
//
// Both coroutines run on the connection's shard (a strand shared by the sessions of one io
// thread; see server_shards.hpp), so they never run at the same time and share
// the session without locks. The session object (the stream, the handler, the slots) is shared
// by the two: whichever ends last destroys it, so neither can touch a destroyed stream. The
// handshake's frames (run_session, run_websocket) are gone by then: run_websocket starts the
// reader as a coroutine of its own and returns, so an idle session holds one coroutine frame.
//
// The code is the same over plain TCP and over TLS: everything here is a template over the
// WebSocket stream's next layer, the TCP socket or the TLS stream (core/tls_transport.hpp), and
// run_websocket has one overload for each, each compiled in a source of its own
// (websocket_session.cpp and websocket_session_tls.cpp): the two instantiations are most of the
// server's compile time, and so they build side by side. Beast's close ends with a teardown of that layer: over
// TLS, the close_notify exchange, then the TCP connection's end.
#pragma once

#include "core/async.hpp"
#include "core/log.hpp"
#include "core/tls_transport.hpp"
#include "net/batching_stream.hpp"
#include "net/connection.hpp"
#include "net/deflate_settings.hpp"
#include "net/session_context.hpp"
#include "net/websocket_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/beast/zlib/error.hpp>

#include <algorithm>
#include <array>
#include <tuple>
#include <type_traits>

// Not for other includes: the session's own parts, named only by the two sources that compile them.
namespace coropush::net::websocket_detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// On the bare socket, or on the TLS stream (the HTTP part's tcp_stream and its timers are let go
// after a plain upgrade: the WebSocket layer keeps time itself), through the batching layer, which
// lets the writer send the messages it drains from the queue in one write (net/batching_stream.hpp
// says why Beast needs it, and its rules). permessage-deflate is compiled in (true) for both
// transports and negotiated only under --deflate: the support alone adds 56 bytes to a stream;
// the extension, once negotiated, memory per connection and CPU per message
// (net/deflate_settings.cpp, bench/README.md).
// Over TLS the layer under the batching one is the TLS stream behind tls_transport, which builds
// the TLS stream's operations once instead of once per handler type (core/tls_transport.hpp).
template <class Transport>
using session_transport = std::conditional_t<std::is_same_v<Transport, tls_stream>, tls_transport, Transport>;
template <class Transport>
using websocket_stream = websocket::stream<batching_stream<session_transport<Transport>>, true>;

// The TCP socket under a session's transport: for the peer's address, and for dropping the
// connection.
inline tcp::socket& tcp_socket(tcp::socket& socket)
{
    return socket;
}

inline tcp::socket& tcp_socket(tls_transport& transport)
{
    return beast::get_lowest_layer(transport).socket();
}

template <class Transport>
tcp::socket& tcp_socket(batching_stream<Transport>& stream)
{
    return tcp_socket(stream.next_layer());
}

// What ended a read, for the log and the close-code counters. Beast has already answered a
// protocol violation with the matching close frame (1002, 1007 or 1009) before returning. A close
// frame from the peer (`received`) makes it a close by the peer even when the teardown after it
// failed: over TLS, a peer that ends the TCP connection without a close_notify, as browsers do.
// `first_end`: nothing ended the session before (no close of the server's, no violation it
// answered itself); a close by the peer then had Beast echo its code (1000 for none), counted too.
inline std::string describe_read_end(beast::error_code ec, websocket::close_reason const& received, metrics& stats,
                                     bool first_end)
{
    if (ec == websocket::error::closed || received.code != websocket::close_code::none) {
        auto const& reason = received;
        if (ec == websocket::error::closed && first_end)
            stats.close_sent(reason.code == websocket::close_code::none ? std::uint16_t{websocket::close_code::normal}
                                                                        : reason.code);
        return "closed by peer: " + std::to_string(reason.code) +
               (reason.reason.empty() ? std::string() : " " + std::string(reason.reason.data(), reason.reason.size()));
    }
    std::uint16_t sent = 0;
    if (ec == websocket::error::message_too_big)
        sent = websocket::close_code::too_big;
    else if (ec == websocket::error::bad_frame_payload)
        sent = websocket::close_code::bad_payload;
    else if (ec == websocket::condition::protocol_violation)
        sent = websocket::close_code::protocol_error;
    if (sent != 0) {
        stats.close_sent(sent);
        return ec.message() + " (closed with " + std::to_string(sent) + ")";
    }
    if (ec == beast::error::timeout)
        return "timed out";
    return "connection lost: " + ec.message();
}

// What the reader and the writer share: the stream and what must live exactly as long as the
// session. Kept alive by the two coroutines' shared_ptrs; attached to the connection as its
// session_io, so the connection can start a writer or drop the socket.
template <class Transport>
class websocket_session final : public session_io, public std::enable_shared_from_this<websocket_session<Transport>> {
public:
    websocket_session(upgrade_to_websocket<Transport>& upgrade, std::shared_ptr<connection> c,
                      std::shared_ptr<session_context> s, connection_registry::entry listed)
        : server(std::move(s)),
          ws(std::move(upgrade.transport)),
          conn(std::move(c)),
          accepted(std::move(upgrade.accepted)),
          listed_(std::move(listed)),
          attached_(conn->attach(*this))
    {
    }

    void start_writer() override;
    sent_now send_now(std::string_view payload, bool binary) override;
    // Over TLS: the push send_now started writing is out, or failed.
    void lone_flush_done(beast::error_code ec);
    // For the reader, when it has answered every request Beast holds: the replies its handler
    // left in the batch (send_now) leave in one write.
    void send_held_replies();
    // For the writer: frames `message` itself and holds it in the open batch, without a write
    // operation of Beast's. False when it cannot (see the definition): Beast writes it then.
    bool hold_in_batch(outbound_message const& message);
    void abort() override
    {
        beast::error_code ignored;
        tcp_socket(ws.next_layer()).close(ignored);
    }

    // Declared first, so destroyed last: the connection, the handler and the slots refer to the
    // server's state (its metrics, services and counters), and the session may hold its last
    // reference (when the io_context is destroyed with the session's coroutines still in it).
    std::shared_ptr<session_context> const server;
    websocket_stream<Transport> ws;
    // When the session is over, its socket (unless Beast's closing handshake closed it) goes to the
    // server's closer, which closes it off the io thread when a core is idle (socket_closer.hpp).
    // Declared right after the stream, so done after everything else the session holds is gone:
    // its slots are free by the time the client sees the end.
    socket_closer::handoff const to_closer{server->closer, tcp_socket(ws.next_layer())};
    std::shared_ptr<connection> const conn;
    accepted_upgrade accepted;  // holds the session's --max-connections and --max-connections-per-ip slots
    std::unique_ptr<message_handler> handler;
    bool in_handler = false;    // the reader is in the handler, which may queue replies
    bool replies_held = false;  // replies the handler sent wait in the batch for send_held_replies
    bool deflate = false;       // permessage-deflate was negotiated (seen by the handshake's decorator)

private:
    connection_registry::entry listed_;
    connection::io_guard attached_;  // declared last: detached first, before the stream goes
};

// Fails the connection with a close frame Beast cannot be asked to send: `code` and `reason` (at
// most 123 bytes), written through the batching layer behind whatever the batch holds and in the
// same write, then the socket's sending side is shut, so that nothing Beast tries next goes out.
// When a write is in flight, or the socket would block, the frame cannot be slipped in whole: the
// connection is dropped instead (also allowed by RFC 6455 7.1.7). Over TLS it is always dropped
// (the layer refuses): bytes written past the TLS stream would corrupt it, and a synchronous write
// through it could block the io thread. `violation` says why, for the session's end.
template <class Transport>
void fail_past_beast(websocket_stream<Transport>& ws, connection& conn, metrics& stats, std::uint16_t code,
                     std::string_view reason, std::string const& violation)
{
    auto& socket = tcp_socket(ws.next_layer());
    // A server's close frame: FIN + opcode 8, unmasked, 2-byte code and a short reason.
    std::string frame{'\x88', static_cast<char>(2 + reason.size()), static_cast<char>(code >> 8),
                      static_cast<char>(code & 0xff)};
    frame += reason;
    boost::system::error_code ec;
    if (ws.next_layer().write_now(asio::buffer(frame), ec)) {
        conn.record_end(violation + " (closed with " + std::to_string(code) + ")");
        stats.close_sent(code);
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        return;
    }
    conn.record_end(violation + " (connection dropped)");
    socket.close(ec);
}

// The peer's close frame carries a code no endpoint may send: fail the connection with 1002
// (protocol error) instead of Beast's echo. Beast is about to write its reply (it calls this from
// inside the read, before writing), so the 1002 frame goes out first, and the echo Beast tries
// next goes nowhere.
template <class Transport>
void refuse_close_code(websocket_stream<Transport>& ws, connection& conn, metrics& stats)
{
    fail_past_beast<Transport>(ws, conn, stats, websocket::close_code::protocol_error, "invalid close code",
                               "protocol violation: close code " + std::to_string(ws.reason().code));
}

// permessage-deflate: a message whose compressed data does not inflate (an invalid block, a
// distance past the window, data after the final block). Beast fails the read with zlib's error
// and marks the stream failed without a close frame, which a browser would report as 1006, an
// abnormal end, and a client could take for the network's fault. RFC 7692 asks to fail the
// connection; 1007 (data inconsistent with the message's type) says what happened.
inline bool inflate_failed(beast::error_code ec)
{
    return ec.category() == beast::zlib::make_error_code(beast::zlib::error::general).category();
}

// Awaits each message and hands it to the dialect. Ends when the connection does: the reader is
// the one that learns first, because a read is always pending.
template <class Transport>
asio::awaitable<void> reader(std::shared_ptr<websocket_session<Transport>> session)
{
    auto& ws = session->ws;
    auto& conn = *session->conn;
    auto& stats = session->server->stats;
    // A message is read into `first`, in this frame, and only when it is longer does it gather in
    // `longer`, in larger slices: a pending read needs its buffer before it waits, and this way an
    // idle session holds none on the heap; most messages (requests, acknowledgements) fit in `first`.
    std::array<char, 128> first;
    constexpr std::size_t slice = 4096;
    beast::flat_buffer longer;
    std::uint64_t messages_read = 0;  // against the batching layer's messages_received (its rule 9)
    for (;;) {
        // Waits for (more of) the next message. Meanwhile Beast answers pings and reports control
        // frames (control_callback); a close frame from the peer ends the wait with
        // error::closed after Beast has sent the closing reply.
        auto [ec, bytes] = co_await ws.async_read_some(asio::buffer(first), nothrow);
        std::string_view payload(first.data(), bytes);
        if (!ec && !ws.is_message_done()) {
            longer.commit(asio::buffer_copy(longer.prepare(bytes), asio::buffer(first.data(), bytes)));
            while (!ec && !ws.is_message_done()) {
                conn.note_activity();
                std::tie(ec, bytes) = co_await ws.async_read_some(longer, slice, nothrow);
            }
            payload = std::string_view(static_cast<char const*>(longer.cdata().data()), longer.size());
        }
        if (ec) {
            if (inflate_failed(ec))
                fail_past_beast<Transport>(ws, conn, stats, websocket::close_code::bad_payload,
                                           "invalid compressed data", "invalid compressed data: " + ec.message());
            else
                conn.record_end(describe_read_end(ec, ws.reason(), stats, conn.end_reason().empty()));
            break;
        }
        conn.note_activity();
        ++messages_read;
        stats.messages_in.fetch_add(1, std::memory_order_relaxed);
        stats.bytes_in.fetch_add(payload.size(), std::memory_order_relaxed);

        // The replies the handler sends wait in the batch (send_now), or in the queue for a writer
        // that starts after this read (start_writer).
        session->in_handler = true;
        if (ws.got_text())
            session->handler->on_text(payload);  // may queue replies and schedule pushes; never blocks
        else
            session->handler->on_binary(payload);
        session->in_handler = false;
        auto work = session->handler->take_awaited_work();
        // The replies leave once Beast holds no further request whose replies could join them
        // (and before anything is awaited): one write for every request of a burst that arrived
        // in one read, and for a lone request its reply at once.
        if (session->replies_held && (work.valid() || ws.next_layer().messages_received() == messages_read))
            session->send_held_replies();
        if (work.valid()) {
            // The handler awaits something (message_handler::await_before_next_read): the next
            // read waits for it, and the message stays in the buffer until it ends. A bug in it
            // ends this session with 1011, not the server.
            std::exception_ptr failure;
            try {
                co_await std::move(work);
            } catch (...) {
                failure = std::current_exception();
            }
            if (failure) {
                log_exceptions("session " + std::to_string(conn.id()) + "'s handler")(failure);
                conn.close(websocket::close_code::internal_error, "internal error");
            }
        }
        longer.consume(longer.size());
        if (longer.capacity() > std::size_t{64} * 1024)
            longer.shrink_to_fit();  // one huge message should not pin its buffer for good
    }
    // The connection is over. A writer still running stops at its next step; one stuck in a
    // write to a peer that is gone is cut off, unless it is in the closing handshake, which
    // Beast finishes (within its close timeout).
    conn.session_ended();
    if (conn.writer_running() && !conn.close_frame_sent())
        session->abort();
    session->handler->on_closed();
    stats.websocket_sessions_open.fetch_sub(1, std::memory_order_relaxed);
    log_info(conn.id(), "closed: ", conn.end_reason().empty() ? "connection ended" : conn.end_reason());
}

// The only coroutine that writes to the stream, so there is never more than one write in flight
// (Beast's rule), and it exists only while there is something to write: queued messages in order,
// a ping when one is due, and finally the close frame when a close was requested and everything
// before it has been written. Returns when none of that is left.
//
// While it drains the queue, the batching layer holds the frames: the ones the writer frames
// itself (hold_in_batch, the usual case) and what Beast writes (each write completes at once);
// the flush when the queue is empty sends it all in one write: a connection with four replies
// queued costs one system call, not four. Frames queued while the writer is busy join the same
// batch, so a burst of requests is answered with few writes.
template <class Transport>
asio::awaitable<void> writer(std::shared_ptr<websocket_session<Transport>> session)
{
    auto& ws = session->ws;
    auto& conn = *session->conn;
    auto& stats = session->server->stats;
    auto& batch = ws.next_layer();
    bool failed = false;
    while (!conn.ended()) {
        if (conn.take_ping_request()) {
            auto [ec] = co_await ws.async_ping({}, nothrow);  // joins the batch when one is open
            if (ec) {
                failed = true;
                break;
            }
            continue;
        }
        if (conn.has_queued()) {
            batch.open_batch();
            // A copy of the message holds its payload alive while the write is in flight. (Held in
            // the batch, the payload has been copied by the time the write completes.)
            outbound_message const message = conn.next_message();
            if (session->hold_in_batch(message)) {
                conn.message_written();
                if (!conn.has_queued()) {
                    // One round through the scheduler before the batch leaves, as a write held by
                    // Beast would take: the reader handles the requests it has already received,
                    // and their replies join this batch.
                    auto const& executor = conn.get_executor();
                    co_await asio::post(executor, asio::use_awaitable);
                }
                continue;
            }
            ws.binary(message.binary);
            auto [ec, bytes] = co_await ws.async_write(asio::buffer(*message.payload), nothrow);
            if (ec) {
                failed = true;
                break;  // the connection is gone; the reader sees it too and ends the session
            }
            conn.message_written();
            stats.messages_out.fetch_add(1, std::memory_order_relaxed);
            stats.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
            continue;
        }
        if (batch.batch_open() || batch.holds_writes()) {
            // The queue is empty: what the batch holds leaves now, in one write, and the batch
            // closes (a pong Beast sends while no writer runs goes straight out). Usually the
            // socket takes it all at once; from a slow reader's full socket, or over TLS, the
            // rest is awaited. (The batch can also hold what the socket did not take of a message
            // sent without a writer: send_now, which started this writer to send it.)
            beast::error_code ec;
            if (!batch.flush_now(ec)) {
                auto [rest] = co_await batch.async_flush(nothrow);
                ec = rest;
            }
            if (ec) {
                failed = true;
                break;
            }
            continue;  // messages queued meanwhile start the next batch
        }
        if (auto const& close = conn.pending_close(); close && !conn.close_frame_sent()) {
            conn.record_end("closed by server: " + std::to_string(close->code) + " " + close->reason);
            stats.close_sent(close->code);
            conn.close_frame_started();
            // Sends the close frame and waits for the peer's; the pending read then ends with
            // error::closed. Beast's handshake timeout (set to the close timeout) bounds the wait.
            websocket::close_reason reason(static_cast<websocket::close_code>(close->code));
            reason.reason.assign(close->reason.data(), std::min(close->reason.size(), reason.reason.max_size()));
            co_await ws.async_close(reason, nothrow);
        }
        break;  // nothing left to write
    }
    stats.socket_writes.fetch_add(batch.take_writes(), std::memory_order_relaxed);
    conn.writer_done(failed);
}

// A writer asked for by anyone but the reader starts at once (co_spawn runs it up to its first
// write right here): a fan-out's delivery costs no extra round through the scheduler. One asked
// for by a reply the reader's handler queues starts one round later, after the reader's next read
// is under way: when the client has sent several requests at once, the reader then handles the
// ones already received before the writer's first write completes, and their replies join the
// same batch. Started at once, the writer would flush each reply alone.
template <class Transport>
void websocket_session<Transport>::start_writer()
{
    if (!in_handler) {
        asio::co_spawn(conn->get_executor(), writer(this->shared_from_this()), log_exceptions("writer"));
        return;
    }
    asio::post(conn->get_executor(), [self = this->shared_from_this()]() mutable {
        auto const executor = self->conn->get_executor();  // before `self` moves (argument order is unspecified)
        asio::co_spawn(executor, writer(std::move(self)), log_exceptions("writer"));
    });
}

// The header of a server's frame that carries a whole message (FIN set, unmasked: RFC 6455 5.2),
// written into `header`; returns its size (2, 4 or 10 bytes).
inline std::size_t whole_message_header(std::array<unsigned char, 10>& header, bool binary, std::size_t size)
{
    header[0] = 0x80 | (binary ? 0x2 : 0x1);
    if (size < 126) {
        header[1] = static_cast<unsigned char>(size);
        return 2;
    }
    std::size_t const length_bytes = size <= 0xffff ? 2 : 8;
    header[1] = length_bytes == 2 ? 126 : 127;
    for (std::size_t i = 0; i < length_bytes; ++i)
        header[1 + length_bytes - i] = static_cast<unsigned char>(size >> (8 * i));
    return 2 + length_bytes;
}

// The whole frame of a message: the header, written into `header`, and the payload.
inline std::array<asio::const_buffer, 2> whole_message_frame(std::array<unsigned char, 10>& header,
                                                             std::string_view payload, bool binary)
{
    auto const header_size = whole_message_header(header, binary, payload.size());
    return {asio::buffer(header.data(), header_size), asio::buffer(payload.data(), payload.size())};
}

// A message for a session with nothing queued or being written and no writer running leaves
// without a writer coroutine: framed by hand, as Beast would frame it (one frame, FIN set:
// auto_fragment is off), and handed to the batching layer. This is a push server's commonest
// write, and a writer costs it a coroutine frame, a copy into the batch and rounds through the
// scheduler.
//  - A push (a fan-out's delivery, a scheduled push) is written at once, in one non-blocking
//    write (the layer's rule 7). Over TLS, which cannot be written without waiting, its flush
//    starts at once instead, and a callback (lone_flush_done) takes the writer's place until it
//    is out.
//  - A reply, sent from inside the reader's handler, is held in the batch (rule 8): the reader
//    sends what is held once it has answered every request Beast has already received
//    (send_held_replies), so a burst of requests is answered in one write and a lone request at
//    once. Not over TLS: there the writer sends replies.
// Only when nothing can be disturbed by a write that bypasses Beast:
//  - not with permessage-deflate (Beast compresses, with a state shared by every message);
//  - not while Beast writes (a pong, the close reply: the layer refuses when a write is in flight)
//    or after a close frame (the connection asks for none then);
//  - and not for a large message, which the writer hands to the socket without a copy.
// The connection has checked the rest: nothing queued, no writer, no ping due.
template <class Transport>
session_io::sent_now websocket_session<Transport>::send_now(std::string_view payload, bool binary)
{
    using layer = batching_stream<session_transport<Transport>>;
    constexpr std::size_t largest = write_batch::limits{}.max_write_held;
    if (deflate || payload.size() > largest || !ws.is_open())
        return sent_now::no;
    std::array<unsigned char, 10> header{};
    auto const frame = whole_message_frame(header, payload, binary);
    auto& batch = ws.next_layer();
    auto& stats = server->stats;
    if constexpr (!layer::writes_without_waiting) {
        if (in_handler || !batch.flush_lone_frame(frame, [self = this->shared_from_this()](beast::error_code ec) {
                self->lone_flush_done(ec);
            }))
            return sent_now::no;
        stats.messages_out.fetch_add(1, std::memory_order_relaxed);
        stats.bytes_out.fetch_add(payload.size(), std::memory_order_relaxed);
        return sent_now::writing;
    }
    if (in_handler) {
        batch.open_batch();
        if (!batch.hold_frame(frame)) {
            if (!replies_held) {
                beast::error_code ignored;
                batch.flush_now(ignored);  // holds nothing: closes the batch again
            }
            return sent_now::no;  // the writer sends it, after what is held
        }
        replies_held = true;
        stats.messages_out.fetch_add(1, std::memory_order_relaxed);
        stats.bytes_out.fetch_add(payload.size(), std::memory_order_relaxed);
        return sent_now::whole;
    }
    beast::error_code ec;
    auto const result = batch.write_lone_frame(frame, ec);
    stats.socket_writes.fetch_add(batch.take_writes(), std::memory_order_relaxed);
    if (result == layer::lone_write::refused)
        return sent_now::no;  // a writer goes through Beast (or, after an error, fails as the reader does)
    stats.messages_out.fetch_add(1, std::memory_order_relaxed);
    stats.bytes_out.fetch_add(payload.size(), std::memory_order_relaxed);
    return result == layer::lone_write::sent ? sent_now::whole : sent_now::partly;
}

// Over TLS, a push that send_now started writing is out (or failed): the connection counted it
// as its writer until now. What was queued meanwhile (or a ping, or a close) goes to a writer,
// started here; otherwise the connection is idle again. A write error ends the writing as the
// writer's would: nothing more is written, and the reader, which sees the failure too, ends the
// session.
template <class Transport>
void websocket_session<Transport>::lone_flush_done(beast::error_code ec)
{
    server->stats.socket_writes.fetch_add(ws.next_layer().take_writes(), std::memory_order_relaxed);
    if (!ec && conn->writer_has_work()) {
        asio::co_spawn(conn->get_executor(), writer(this->shared_from_this()), log_exceptions("writer"));
        return;
    }
    conn->writer_done(static_cast<bool>(ec));
}

// The replies held by send_now leave in one non-blocking write. A writer started meanwhile (a
// push, a ping) sends them itself, first in its batch; what the socket does not take is left to
// a writer. A write error ends the session.
template <class Transport>
void websocket_session<Transport>::send_held_replies()
{
    replies_held = false;
    if (conn->writer_running())
        return;
    auto& batch = ws.next_layer();
    beast::error_code ec;
    bool const all_out = batch.flush_now(ec);
    server->stats.socket_writes.fetch_add(batch.take_writes(), std::memory_order_relaxed);
    if (ec) {
        conn->record_end("connection lost: " + ec.message());
        abort();  // the pending read fails, and the session ends
    } else if (!all_out) {
        conn->writer_needed();
    }
}

// The writer's messages, framed the same way and copied into its batch (the layer's rule 8)
// instead of going through Beast's write operation, which costs an allocation, a copy into
// Beast's own buffer and a completion through the scheduler per message. Over plain TCP and TLS
// alike (the batch leaves through the layer's flush); not with permessage-deflate, not once Beast
// has seen a close frame (it then refuses every write, and so must the writer), and not when the
// frame does not fit the batch or a write is in flight (a pong of Beast's, say): then Beast
// writes it, and its write waits for its turn.
template <class Transport>
bool websocket_session<Transport>::hold_in_batch(outbound_message const& message)
{
    if (deflate || !ws.is_open() || conn->close_frame_sent())
        return false;
    std::array<unsigned char, 10> header{};
    if (!ws.next_layer().hold_frame(whole_message_frame(header, *message.payload, message.binary)))
        return false;
    auto& stats = server->stats;
    stats.messages_out.fetch_add(1, std::memory_order_relaxed);
    stats.bytes_out.fetch_add(message.payload->size(), std::memory_order_relaxed);
    return true;
}

// RFC 6455 7.4: 1000-2999 are defined or reserved by the RFC (Beast checks those), 3000-4999
// are for libraries and applications; nothing above 4999 may be sent. Beast 1.81 accepts codes
// from 5000 to 65535 and echoes them back in its closing reply.
inline bool close_code_allowed_on_the_wire(std::uint16_t code) noexcept
{
    return code < 5000;
}

// The WebSocket handshake, then the session proper: the reader, started as a coroutine of its own.
template <class Transport>
asio::awaitable<void> open_session(upgrade_to_websocket<Transport> upgrade, std::shared_ptr<connection> conn,
                                   std::shared_ptr<session_context> server, connection_registry::entry listed)
{
    auto const& options = server->options;
    auto& stats = server->stats;
    // The session takes the socket and `upgrade`'s slots (--max-connections and
    // --max-connections-per-ip count it until the session ends) and keeps the connection listed.
    auto const session = std::make_shared<websocket_session<Transport>>(upgrade, conn, server, std::move(listed));
    auto& ws = session->ws;

    // From here on the WebSocket layer keeps time itself: the handshake timeout bounds the
    // upgrade response, then the close timeout bounds the closing handshake.
    ws.set_option(websocket::stream_base::timeout{options.handshake_timeout, websocket::stream_base::none(), false});
    ws.read_message_max(session->accepted.endpoint->max_message_bytes);  // larger messages: close 1009
    ws.auto_fragment(false);
    if (options.deflate)  // negotiated when the client offers it, on every endpoint
        ws.set_option(
            deflate_settings(upgrade.request[http::field::sec_websocket_extensions], options.deflate_context_takeover));
    ws.set_option(websocket::stream_base::decorator([s = session.get()](websocket::response_type& response) {
        response.set(http::field::server, "coropush");
        if (auto const& subprotocol = s->accepted.endpoint->subprotocol; !subprotocol.empty())
            response.set(http::field::sec_websocket_protocol, subprotocol);
        s->deflate = response.count(http::field::sec_websocket_extensions) != 0;  // Beast negotiated it
    }));

    {
        // Waits until the 101 Switching Protocols response is written (Beast refuses a malformed
        // upgrade with 400 or 426 itself, and says why). The request is freed right after: the
        // session does not need its headers, and they would stay for the session's lifetime.
        http_request const request = std::move(upgrade.request);
        // (NOLINT: clang-tidy 14 takes this co_await of a coroutine template for a use of
        // `listed`, moved into the session above: a false positive.)
        auto [ec] = co_await ws.async_accept(request, nothrow);  // NOLINT(bugprone-use-after-move)
        if (ec) {
            stats.handshake_failed(handshake_failure::websocket_rejected);
            log_info(conn->id(), "WebSocket handshake failed: ", ec.message());
            co_return;
        }
    }
    ws.set_option(websocket::stream_base::timeout{options.close_timeout, websocket::stream_base::none(), false});
    // One pointer captured, not three references: the callback then fits in std::function's
    // inline storage, and an idle session holds no heap block for it. The session owns the stream,
    // so it outlives every call.
    ws.control_callback([s = session.get()](websocket::frame_type kind, beast::string_view) {
        s->conn->note_activity();
        if (kind != websocket::frame_type::close)
            return;
        s->conn->peer_closing();  // Beast answers; the close timeout bounds what follows
        if (!close_code_allowed_on_the_wire(s->ws.reason().code))
            refuse_close_code<Transport>(s->ws, *s->conn, s->server->stats);
    });

    stats.websocket_sessions_total.fetch_add(1, std::memory_order_relaxed);
    stats.websocket_sessions_open.fetch_add(1, std::memory_order_relaxed);
    if (session->deflate)
        stats.websocket_sessions_deflate.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ec;
    auto const peer = tcp_socket(ws.next_layer()).remote_endpoint(ec);
    log_info(conn->id(), "opened (", session->accepted.endpoint->name, session->deflate ? ", deflate" : "", ") from ",
             peer);

    session->handler = session->accepted.endpoint->make_handler(*conn);
    conn->websocket_opened();
    if (server->draining.load(std::memory_order_acquire))
        conn->close(1001, "server shutting down", options.shutdown_grace);  // shutdown began during our handshake

    // The reader runs on as a coroutine of its own, and this frame (and run_session's) ends: an
    // idle session keeps only the reader's frame and the session object.
    asio::co_spawn(conn->get_executor(), reader(session), log_exceptions("session " + std::to_string(conn->id())));
}

}  // namespace coropush::net::websocket_detail
