// The WebSocket side of a connection: the handshake, then four coroutines side by side on the
// connection's strand until the connection is over:
//
//   reader            await each message; the dialect's handler answers it
//   writer            await queued frames and write them, several to a write (batching_stream)
//   pusher            await the due time of scheduled pushes (the demo's notice)
//   watchdog          await silence: ping, then drop a peer that stays silent; time the close
//
// They never run at the same time (one strand) and share the connection object without locks.
// run_websocket's frame owns the stream and outlives all four (they are awaited with &&), so
// none can touch a destroyed stream.
#include "net/websocket_session.hpp"

#include "core/log.hpp"
#include "net/batching_stream.hpp"
#include "net/connection.hpp"
#include "net/server_state.hpp"
#include "service/echo_dialect.hpp"
#include "service/json_dialect.hpp"
#include "service/plain_dialect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>

namespace coropush::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

// On the socket through the batching layer, which lets the writer send the frames it drains from
// the queue in one write (net/batching_stream.hpp says why Beast needs it, and its rules). The
// HTTP part's tcp_stream and its timers are let go after the upgrade: the WebSocket layer keeps
// time itself. permessage-deflate is not offered (false): it costs memory per connection and CPU
// per message, and a push server's small JSON messages gain little.
using websocket_stream = websocket::stream<batching_stream<asio::ip::tcp::socket>, false>;

namespace {

// Expected outcomes (the peer left, a timeout) come back as error codes to test with `if`,
// instead of exceptions: as_tuple turns the completion (error_code, result) into a tuple.
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// What ended a read, for the log and the close-code counters. Beast has already answered a
// protocol violation with the matching close frame (1002, 1007 or 1009) before returning.
std::string describe_read_end(beast::error_code ec, websocket_stream const& ws, metrics& stats)
{
    if (ec == websocket::error::closed) {
        auto const& reason = ws.reason();
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

// Awaits each message and hands it to the dialect. Ends when the connection does, then stops the
// others: the reader is the one that learns first, because a read is always pending.
asio::awaitable<void> reader(websocket_stream& ws, connection& conn, message_handler& handler, metrics& stats)
{
    // Messages are read in slices of up to this many bytes: the buffer is sized by what arrives,
    // so an idle connection holds a small one (Beast would reserve 1.5 KiB up front otherwise).
    constexpr std::size_t slice = 512;
    beast::flat_buffer buffer;
    for (;;) {
        // Waits for (more of) the next message. Meanwhile Beast answers pings and reports control
        // frames (control_callback); a close frame from the peer ends the wait with
        // error::closed after Beast has sent the closing reply.
        auto [ec, bytes] = co_await ws.async_read_some(buffer, slice, nothrow);
        if (ec) {
            conn.record_end(describe_read_end(ec, ws, stats));
            break;
        }
        conn.note_activity();
        if (!ws.is_message_done())
            continue;
        stats.messages_in.fetch_add(1, std::memory_order_relaxed);
        stats.bytes_in.fetch_add(buffer.size(), std::memory_order_relaxed);

        auto const data = buffer.cdata();
        std::string_view const payload(static_cast<char const*>(data.data()), data.size());
        if (ws.got_text())
            handler.on_text(payload);  // may queue replies and schedule pushes; never blocks
        else
            handler.on_binary(payload);
        buffer.consume(buffer.size());
        if (buffer.capacity() > std::size_t{64} * 1024)
            buffer.shrink_to_fit();  // one huge message should not pin its buffer for good
    }
    conn.stop();
}

// The only coroutine that writes to the stream, so there is never more than one write in flight
// (Beast's rule). Sends queued frames in order, a ping when the watchdog asks, and finally the
// close frame when a close was requested and everything before it has been written.
//
// While it drains the queue, the batching layer holds what Beast writes (each write completes at
// once), and the flush when the queue is empty sends it all in one write: a connection with four
// replies queued costs one system call, not four. Frames queued while the writer is busy join
// the same batch, so a burst of requests is answered with few writes.
asio::awaitable<void> writer(websocket_stream& ws, connection& conn, metrics& stats)
{
    auto& batch = ws.next_layer();
    while (!conn.stopping()) {
        if (conn.take_ping_request()) {
            auto [ec] = co_await ws.async_ping({}, nothrow);  // joins the batch when one is open
            if (ec)
                break;
            continue;
        }
        if (conn.has_queued()) {
            batch.open_batch();
            // A copy of the frame holds its payload alive while the write is in flight. (Held in
            // the batch, the payload has been copied by the time the write completes.)
            outbound_frame const frame = conn.next_frame();
            ws.binary(frame.binary);
            auto [ec, bytes] = co_await ws.async_write(asio::buffer(*frame.payload), nothrow);
            if (ec)
                break;  // the connection is gone; the reader sees it too and stops us all
            conn.frame_written();
            stats.messages_out.fetch_add(1, std::memory_order_relaxed);
            stats.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
            continue;
        }
        if (batch.batch_open()) {
            // The queue is empty: what the batch holds leaves now, in one write, and the batch
            // closes (a pong Beast sends while the writer sleeps goes straight out). Usually the
            // socket takes it all at once; from a slow reader's full socket, the rest is awaited.
            boost::system::error_code ec;
            if (!batch.flush_now(ec)) {
                auto [rest] = co_await batch.async_flush(nothrow);
                ec = rest;
            }
            if (ec)
                break;
            continue;  // frames queued meanwhile start the next batch
        }
        if (auto const& close = conn.pending_close()) {
            conn.record_end("closed by server: " + std::to_string(close->code) + " " + close->reason);
            stats.close_sent(close->code);
            conn.close_frame_started();
            // Sends the close frame and waits for the peer's; the pending read then ends with
            // error::closed. Beast's handshake timeout (set to --close-timeout) bounds the wait.
            websocket::close_reason reason(static_cast<websocket::close_code>(close->code));
            reason.reason.assign(close->reason.data(), std::min(close->reason.size(), reason.reason.max_size()));
            co_await ws.async_close(reason, nothrow);
            break;
        }
        co_await conn.wait_for_writer_work();  // until send(), close(), a ping request or stop()
    }
}

// Moves scheduled frames (the demo's notice, a second after the welcome) into the queue when due.
asio::awaitable<void> pusher(connection& conn)
{
    while (!conn.stopping()) {
        co_await conn.wait_for_next_push();  // a steady_timer set to the earliest due time
        conn.release_due_pushes();
    }
}

// Times a close in its two phases: the queue must be flushed within the close request's budget
// (the grace period for a shutdown or an admin close), then the peer must answer the close frame
// within --close-timeout. Past either, the TCP connection is dropped.
asio::awaitable<void> time_the_close(connection& conn, server_options const& options)
{
    if (!conn.close_frame_sent()) {
        auto const flush_budget = conn.pending_close()->flush_budget.value_or(options.close_timeout);
        co_await conn.watchdog_sleep(flush_budget);  // woken early when the close frame starts out
        if (conn.stopping())
            co_return;
        if (!conn.close_frame_sent()) {
            conn.abort("queue not flushed within " + millis(flush_budget));
            co_return;
        }
    }
    co_await conn.watchdog_sleep(options.close_timeout);
    if (!conn.stopping())
        conn.abort("closing handshake not done within " + millis(options.close_timeout));
}

// Notices a peer that has gone silent (dead Wi-Fi, a half-open TCP connection): after
// --ping-interval without a word from it, ask the writer for a ping; after --ping-timeout more
// with still nothing (not even the pong), drop the connection. Closes the session at its
// deadline (no token in time, or an expired one: connection::close_at), and times a close.
// Every sleep ends at the deadline too, and a new deadline wakes it, so one timer serves all.
asio::awaitable<void> watchdog(connection& conn, server_options const& options, metrics& stats)
{
    bool const pings = options.ping_interval > clock::duration::zero();
    while (!conn.stopping()) {
        if (conn.pending_close()) {
            co_await time_the_close(conn, options);
            co_return;
        }
        if (conn.deadline_passed()) {
            conn.close_for_deadline();  // the next turn times that close
            continue;
        }
        if (!pings) {
            co_await conn.watchdog_sleep_until(conn.deadline());  // until the deadline, a close or the end
            continue;
        }
        // Sleeps until one interval after the last word from the peer; if it spoke meanwhile,
        // the next turn sleeps until one interval after that.
        auto const heard = conn.last_heard();
        co_await conn.watchdog_sleep_until(std::min(heard + options.ping_interval, conn.deadline()));
        if (conn.stopping() || conn.pending_close() || conn.deadline_passed() || conn.last_heard() != heard ||
            clock::now() < heard + options.ping_interval)
            continue;
        conn.request_ping();
        auto const answer_by = clock::now() + options.ping_timeout;
        auto const still_waiting = [&] {
            return !conn.stopping() && !conn.pending_close() && !conn.deadline_passed() && conn.last_heard() == heard &&
                   clock::now() < answer_by;
        };
        while (still_waiting())
            co_await conn.watchdog_sleep_until(std::min(answer_by, conn.deadline()));
        if (conn.stopping() || conn.pending_close() || conn.deadline_passed() || conn.last_heard() != heard)
            continue;
        stats.ping_timeouts.fetch_add(1, std::memory_order_relaxed);
        conn.abort("no answer to a ping within " + millis(options.ping_timeout));
        co_return;
    }
}

// RFC 6455 7.4: 1000-2999 are defined or reserved by the RFC (Beast checks those), 3000-4999
// are for libraries and applications; nothing above 4999 may be sent. Beast 1.81 accepts codes
// from 5000 to 65535 and echoes them back in its closing reply.
bool close_code_allowed_on_the_wire(std::uint16_t code) noexcept
{
    return code < 5000;
}

// The peer's close frame carries a code no endpoint may send: fail the connection with 1002
// (protocol error) instead of Beast's echo. Beast is about to write its reply (it calls this from
// inside the read, before writing), so the 1002 frame goes out first, through the batching layer,
// behind whatever the batch holds and in the same write, and the socket's sending side is then
// shut, so the echo Beast tries next goes nowhere. When a write is in flight, or the socket would
// block, the frame cannot be slipped in whole: the connection is dropped instead (also allowed by
// 7.1.7).
void refuse_close_code(websocket_stream& ws, connection& conn, metrics& stats)
{
    conn.record_end("protocol violation: close code " + std::to_string(ws.reason().code) + " (closed with 1002)");
    // A server's close frame: FIN + opcode 8, unmasked, 2-byte code and a short reason.
    static constexpr char reason[] = "invalid close code";
    std::string frame{'\x88', static_cast<char>(2 + sizeof reason - 1), '\x03', '\xea'};
    frame += reason;
    auto& socket = beast::get_lowest_layer(ws);
    boost::system::error_code ec;
    if (ws.next_layer().write_now(asio::buffer(frame), ec)) {
        stats.close_sent(websocket::close_code::protocol_error);
        socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        return;
    }
    socket.close(ec);
}

std::unique_ptr<message_handler> make_handler(dialect kind, connection& conn, server_state& server)
{
    switch (kind) {
    case dialect::json:
        return std::make_unique<json_dialect>(conn, server.services);
    case dialect::echo:
        return std::make_unique<echo_dialect>(conn);
    case dialect::plain:
        break;
    }
    return std::make_unique<plain_dialect>(conn, server.demo);
}

}  // namespace

// The WebSocket handshake, then the session proper.
asio::awaitable<void> run_websocket(upgrade_to_websocket upgrade, connection& conn, server_state& server)
{
    auto const& options = server.options;
    // `upgrade` (this frame's) holds the session's slots: --max-connections and
    // --max-connections-per-ip count it until the session ends.
    websocket_stream ws(std::move(upgrade.socket));
    auto const abort_guard = conn.set_abort_hook([&ws] {
        beast::error_code ignored;
        beast::get_lowest_layer(ws).close(ignored);
    });

    // From here on the WebSocket layer keeps time itself: the handshake timeout bounds the
    // upgrade response, then the close timeout bounds the closing handshake.
    ws.set_option(websocket::stream_base::timeout{options.handshake_timeout, websocket::stream_base::none(), false});
    ws.read_message_max(upgrade.accepted.max_message_bytes);  // larger messages: close 1009
    ws.auto_fragment(false);
    bool const json = upgrade.accepted.kind == dialect::json;
    ws.set_option(websocket::stream_base::decorator([json](websocket::response_type& response) {
        response.set(http::field::server, "coropush");
        if (json)
            response.set(http::field::sec_websocket_protocol, json_subprotocol);
    }));

    {
        // Waits until the 101 Switching Protocols response is written (Beast refuses a malformed
        // upgrade with 400 or 426 itself, and says why). The request is freed right after: the
        // session does not need its headers, and they would stay for the session's lifetime.
        http_request const request = std::move(upgrade.request);
        auto [ec] = co_await ws.async_accept(request, nothrow);
        if (ec) {
            server.stats.handshake_failed(handshake_failure::websocket_rejected);
            log_info(conn.id(), "WebSocket handshake failed: ", ec.message());
            co_return;
        }
    }
    ws.set_option(websocket::stream_base::timeout{options.close_timeout, websocket::stream_base::none(), false});
    ws.control_callback([&ws, &conn, &stats = server.stats](websocket::frame_type kind, beast::string_view) {
        conn.note_activity();
        if (kind == websocket::frame_type::close && !close_code_allowed_on_the_wire(ws.reason().code))
            refuse_close_code(ws, conn, stats);
    });

    conn.websocket_opened();
    server.stats.websocket_sessions_total.fetch_add(1, std::memory_order_relaxed);
    server.stats.websocket_sessions_open.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ec;
    auto const peer = beast::get_lowest_layer(ws).remote_endpoint(ec);
    log_info(conn.id(), "opened (", to_string(upgrade.accepted.kind), ") from ", peer);

    auto handler = make_handler(upgrade.accepted.kind, conn, server);
    if (server.draining.load(std::memory_order_acquire))
        conn.close(1001, "server shutting down", options.shutdown_grace);  // shutdown began during our handshake

    // The session: four coroutines side by side on this strand, awaited together. Each returns
    // once the connection is over; this line completes when all four have.
    co_await (reader(ws, conn, *handler, server.stats) && writer(ws, conn, server.stats) && pusher(conn) &&
              watchdog(conn, options, server.stats));

    handler->on_closed();
    server.stats.websocket_sessions_open.fetch_sub(1, std::memory_order_relaxed);
    log_info(conn.id(), "closed: ", conn.end_reason().empty() ? "connection ended" : conn.end_reason());
}

}  // namespace coropush::net
