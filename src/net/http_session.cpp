// The HTTP side of a connection: requests answered in a loop until one asks for an upgrade.
#include "net/http_session.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "net/connection.hpp"
#include "net/session_context.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

namespace coropush::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

struct read_failure_answer {
    http::status status;
    char const* body;
    handshake_failure reason;
};

// What a failed request read deserves: an HTTP error for a request that broke a rule, nothing
// for a client that simply left.
std::optional<read_failure_answer> answer_for(beast::error_code ec)
{
    if (ec == http::error::header_limit)
        return read_failure_answer{http::status::request_header_fields_too_large, "request header too large\n",
                                   handshake_failure::header_too_large};
    if (ec == http::error::body_limit)
        return read_failure_answer{http::status::payload_too_large, "request body too large\n",
                                   handshake_failure::body_too_large};
    if (ec.category() == beast::error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
        return read_failure_answer{http::status::bad_request, "bad request\n", handshake_failure::bad_request};
    return std::nullopt;
}

// RFC 9110 10.1.1: a client that sent "Expect: 100-continue" waits (a while) for a 100 before
// sending its body. It gets one once the body it announces is known to be within the limit;
// otherwise the answer is a 413, and the body is never sent.
bool wants_continue(http_request const& header)
{
    return beast::iequals(header[http::field::expect], "100-continue") && header.version() >= 11;
}

// How the connection drops the socket while the HTTP part holds it (an HTTP connection has no
// writer to start: it answers each request as it goes).
class http_io final : public session_io {
public:
    explicit http_io(beast::tcp_stream& transport)
        : transport_(transport)
    {
    }
    void start_writer() override {}
    void abort() override { transport_.close(); }

private:
    beast::tcp_stream& transport_;
};

// RFC 9112 3.2.2: a server accepts a request target in absolute form ("GET http://host/page"),
// which clients send to proxies, and some to servers; its authority stands for the Host header.
// Rewritten here to the origin form the routes and endpoints know ("/page", Host: host). Other
// targets are left as they are, for the routes to refuse (the asterisk form, garbage: 404).
void to_origin_form(http_request& header)
{
    auto const target = header.target();
    if (target.empty() || target.front() == '/')
        return;
    auto const parsed = boost::urls::parse_absolute_uri(target);
    if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty() ||
        (parsed->scheme_id() != boost::urls::scheme::http && parsed->scheme_id() != boost::urls::scheme::https))
        return;
    std::string origin_form = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
    if (parsed->has_query())
        origin_form.append("?").append(parsed->encoded_query());
    std::string const host(parsed->encoded_host_and_port());  // (copied: `parsed` views the target)
    header.set(http::field::host, host);
    header.target(origin_form);
}

// A route's answer to a HEAD request: RFC 9110 9.3.2, the header a GET would get, and no body
// (Content-Length stays, saying what GET would send): a body here would be read as the start of
// the next response.
http_response& fit_for(http::verb method, http_response& response)
{
    if (method == http::verb::head) {
        response.prepare_payload();
        response.body().clear();
    }
    return response;
}

// The answer to a request that is not an upgrade. A registered route (the server API) may wait
// (for a job's strand, or for Redis), so its answer is awaited; the built-in endpoints and the
// static files answer at once.
asio::awaitable<http::message_generator> answer(http_request request, http_route const* route, session_context& server)
{
    if (route == nullptr)
        co_return route_http(request, server.http);
    auto const method = request.method();
    auto response = co_await route->answer(std::move(request));
    co_return http::message_generator(std::move(fit_for(method, response)));
}

// After a refusal that left the request's body unread (a body over the limit, a request a route
// refused on its header): closing the socket with unread data in it would send a reset, and a
// reset can destroy the refusal before the client has read it (RFC 9112 9.6). So the server
// stops sending, then reads and drops what the client still sends, until it stops (its FIN, once
// it has read the answer), up to `limit` bytes or the handshake timeout: a lingering close, as
// nginx and Apache do it. Nothing is held; the connection closes after it. (Over TLS the server
// cannot stop sending without a close_notify, which OpenSSL would not read past: the client's
// own close ends the reading there.)
template <class Stream>
asio::awaitable<void> linger(Stream& stream, beast::flat_buffer& buffer, std::size_t limit, session_context& server)
{
    auto& transport = beast::get_lowest_layer(stream);
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        beast::error_code ignored;
        transport.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    transport.expires_after(server.options.handshake_timeout);
    std::size_t dropped = buffer.size();
    buffer.consume(buffer.size());
    while (dropped <= limit) {
        auto [ec, bytes] = co_await stream.async_read_some(buffer.prepare(4096), nothrow);
        if (ec)
            break;
        dropped += bytes;
    }
}

// A request refused while it was read: in its route's own format (the server API's JSON errors),
// when the header named one; plain text otherwise.
http::message_generator refusal(read_failure_answer const& answer, http_route const* route)
{
    if (route == nullptr)
        return text_response(answer.status, answer.body, 11, false);
    if (answer.status == http::status::payload_too_large)
        return route->refuse(answer.status, "too_large",
                             "the body is larger than " + std::to_string(route->max_body_bytes) + " bytes", 11);
    return route->refuse(answer.status, "bad_request", "the request could not be read", 11);
}

// What the WebSocket part runs on. A plain connection lets go of the tcp_stream and its timers
// (the WebSocket layer keeps time itself, and an idle session is smaller on the bare socket); a
// TLS connection's state cannot move, so its stream goes whole, with the timer switched off.
tcp::socket websocket_transport(beast::tcp_stream&& stream)
{
    return stream.release_socket();
}

tls_stream websocket_transport(tls_stream&& stream)
{
    beast::get_lowest_layer(stream).expires_never();
    return std::move(stream);
}

template <class Stream>
using websocket_transport_of = decltype(websocket_transport(std::declval<Stream>()));

// After the last response the client learns that nothing more comes: a FIN on plain TCP; over
// TLS a close_notify first (and the client's in return, awaited within the handshake timeout).
asio::awaitable<void> finish(beast::tcp_stream& stream, session_context&)
{
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
}

asio::awaitable<void> finish(tls_stream& stream, session_context& server)
{
    beast::get_lowest_layer(stream).expires_after(server.options.handshake_timeout);
    co_await stream.async_shutdown(nothrow);
}

// Answers HTTP requests until one is an upgrade that decide_upgrade accepts (returned, with the
// request), or the client leaves, or a request breaks a rule. The same code for plain and TLS
// connections: `Stream` is the tcp_stream, or the TLS stream over it.
template <class Stream>
asio::awaitable<std::optional<upgrade_to_websocket<websocket_transport_of<Stream>>>>
serve_requests(Stream stream, connection& conn, session_context& server)
{
    auto const& options = server.options;
    // The HTTP part owns the connection; the tcp_stream at the bottom of it gives each request
    // its deadline.
    beast::tcp_stream& transport = beast::get_lowest_layer(stream);
    http_io stream_io(transport);
    auto const attached = conn.attach(stream_io);
    beast::flat_buffer buffer;

    for (bool first = true;; first = false) {
        // The request must arrive whole within the handshake timeout: a client that trickles
        // bytes, or opens a connection and says nothing, is cut off (beast::error::timeout).
        transport.expires_after(options.handshake_timeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
        // The header first: what it asks for decides how large a body may be (the server API
        // takes larger ones), and whether the client waits for a 100 Continue before sending it.
        // (Beast checks a Content-Length against the limit as the header ends, so the larger
        // limit is set for the header, and the right one checked below.)
        parser.body_limit(std::max(options.max_body_bytes, server.routes.largest_body()));
        auto [ec, bytes] = co_await http::async_read_header(stream, buffer, parser, nothrow);
        // A Content-Length over even the largest limit fails the read once the header is whole.
        // Such a header is judged as any other, the length last: a route may refuse it first (the
        // server API's 401 to a client without the key, which then learns nothing of the limit),
        // and the check below answers 413 in the route's format. (The parser, failed, does not
        // count its header as done: its content_length() is not to be asked.)
        bool const over_every_limit = ec == http::error::body_limit;
        if (over_every_limit)
            ec = {};
        bool const one_host = parser.get().count(http::field::host) == 1;
        if (!ec)
            to_origin_form(parser.get());
        http_route const* const route = !ec ? server.routes.route_for(parser.get().target()) : nullptr;
        // RFC 9112 6.3: a Transfer-Encoding that does not end in chunked leaves the body's length
        // unknown. Beast reads such a request as one without a body, and would then take the body
        // for the next request (request smuggling, behind a proxy that frames it otherwise): 400,
        // and the connection is closed.
        if (!ec && parser.get().count(http::field::transfer_encoding) != 0 && !parser.chunked())
            ec = http::error::bad_transfer_encoding;
        // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host; one without, or with two (which
        // a proxy in front may read differently), is answered 400.
        if (!ec && parser.get().version() >= 11 && !one_host)
            ec = http::error::bad_field;
        // A route may refuse a request on its header alone (the server API, one without the key):
        // answered before the body is read, so that such a client cannot make the server hold one.
        if (!ec && route != nullptr && route->screen) {
            if (auto refused = route->screen(parser.get())) {
                server.stats.http_requests.fetch_add(1, std::memory_order_relaxed);
                bool const body_unread = !parser.is_done();
                if (body_unread || server.draining.load(std::memory_order_relaxed))
                    refused->keep_alive(false);
                bool const keep_alive = refused->keep_alive();
                log_info(conn.id(), "refused on its header: ", refused->result_int());
                transport.expires_after(options.handshake_timeout);
                auto [write_ec, written] = co_await beast::async_write(
                    stream, http::message_generator(std::move(fit_for(parser.get().method(), *refused))), nothrow);
                if (!write_ec && body_unread)
                    co_await linger(stream, buffer, route->max_body_bytes, server);
                if (write_ec || !keep_alive)
                    break;
                continue;
            }
        }
        if (!ec) {
            auto const body_limit = route ? route->max_body_bytes : options.max_body_bytes;
            parser.body_limit(body_limit);  // what a chunked body may add up to
            if (over_every_limit || (parser.content_length() && *parser.content_length() > body_limit))
                ec = http::error::body_limit;
        }
        // The built-in endpoints and the static files read no body. One that the client holds back
        // until a 100 Continue is not asked for: the final answer comes on the header alone (RFC
        // 9110 10.1.1 lets a server send it instead of the 100), and the connection closes after
        // it, lingering over whatever of the body still comes.
        if (!ec && route == nullptr && !parser.is_done() && wants_continue(parser.get()) &&
            !websocket::is_upgrade(parser.get())) {
            server.stats.http_requests.fetch_add(1, std::memory_order_relaxed);
            http_request header = parser.release();
            header.keep_alive(false);
            log_info(conn.id(), "answered on its header (Expect: 100-continue, no body read)");
            transport.expires_after(options.handshake_timeout);
            auto [write_ec, written] = co_await beast::async_write(stream, route_http(header, server.http), nothrow);
            if (!write_ec)
                co_await linger(stream, buffer, options.max_body_bytes, server);
            break;
        }
        if (!ec) {
            if (!parser.is_done() && wants_continue(parser.get())) {
                http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
                std::tie(ec, bytes) = co_await http::async_write(stream, go_on, nothrow);
            }
        }
        if (!ec)
            std::tie(ec, bytes) = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) {
            if (ec == beast::error::timeout && (first || parser.got_some())) {
                server.stats.handshake_failed(handshake_failure::timeout);
                log_info(conn.id(), "request not complete within ", millis(options.handshake_timeout), ": dropped");
            } else if (auto answer = answer_for(ec)) {
                server.stats.handshake_failed(answer->reason);
                log_info(conn.id(), "bad request (", ec.message(), "): ", static_cast<unsigned>(answer->status));
                transport.expires_after(options.handshake_timeout);
                auto [write_ec, written] = co_await beast::async_write(stream, refusal(*answer, route), nothrow);
                if (!write_ec && answer->status == http::status::payload_too_large)
                    co_await linger(stream, buffer, std::max(options.max_body_bytes, server.routes.largest_body()),
                                    server);
            }
            break;
        }

        http_request request = parser.release();
        if (server.draining.load(std::memory_order_relaxed))
            request.keep_alive(false);  // draining: answer this one, then let the client go

        if (websocket::is_upgrade(request)) {
            beast::error_code no_peer;  // a peer already gone fails at the handshake anyway
            auto const peer = transport.socket().remote_endpoint(no_peer);
            auto decision = decide_upgrade(request, no_peer ? std::string() : peer.address().to_string(), server);
            if (auto* accepted = std::get_if<accepted_upgrade>(&decision)) {
                conn.upgrade_accepted();  // before any co_await: an end asked from now on waits for the handshake
                if (buffer.size() != 0) {
                    // RFC 6455 4.1: a client sends nothing more before the handshake response.
                    server.stats.handshake_failed(handshake_failure::bad_request);
                    co_await beast::async_write(stream,
                                                text_response(http::status::bad_request,
                                                              "data sent before the handshake completed\n",
                                                              request.version(), false),
                                                nothrow);
                    break;
                }
                // An upgrade has no body to wait for: Beast's accept would answer an Expect:
                // 100-continue with a needless 100 before the 101.
                request.erase(http::field::expect);
                co_return upgrade_to_websocket<websocket_transport_of<Stream>>{
                    websocket_transport(std::move(stream)), std::move(request), std::move(*accepted)};
            }
            auto const& refused = std::get<refused_upgrade>(decision);
            server.stats.handshake_failed(refused.reason);
            log_info(conn.id(), "upgrade refused: ", static_cast<unsigned>(refused.status), " ", refused.log_message);
            transport.expires_after(options.handshake_timeout);
            co_await beast::async_write(stream, text_response(refused.status, refused.body, request.version(), false),
                                        nothrow);
            break;
        }

        server.stats.http_requests.fetch_add(1, std::memory_order_relaxed);
        auto response = co_await answer(std::move(request), route, server);
        bool const keep_alive = response.keep_alive();
        transport.expires_after(options.handshake_timeout);  // a response must be taken in time, too
        auto [write_ec, written] = co_await beast::async_write(stream, std::move(response), nothrow);
        if (write_ec || !keep_alive)
            break;
    }
    co_await finish(stream, server);
    co_return std::nullopt;
}

}  // namespace

asio::awaitable<std::optional<upgrade_to_websocket<tcp::socket>>> serve_http(beast::tcp_stream stream, connection& conn,
                                                                             session_context& server)
{
    return serve_requests(std::move(stream), conn, server);
}

asio::awaitable<std::optional<upgrade_to_websocket<tls_stream>>> serve_http(tls_stream stream, connection& conn,
                                                                            session_context& server)
{
    return serve_requests(std::move(stream), conn, server);
}

}  // namespace coropush::net
