// The client's Beast and TLS machinery, kept out of its header. The same code runs over plain TCP
// and over TLS: each operation is a template over the WebSocket stream, and the client holds one
// of the two streams in a variant.
#include "client/ws_client.hpp"

#include "core/async.hpp"
#include "core/tls_transport.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <openssl/ssl.h>

#include <type_traits>
#include <variant>

namespace coropush::client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Over TLS, the TLS stream behind tls_transport, which builds its operations once for every
// handler the WebSocket stream brings (core/tls_transport.hpp).
using plain_websocket = websocket::stream<beast::tcp_stream>;
using tls_websocket = websocket::stream<tls_transport>;

// What a browser would insist on: TLS 1.2 or later, a certificate from a trusted CA.
std::shared_ptr<ssl::context> client_context(connect_options const& options)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_verify_mode(ssl::verify_peer);
    if (options.ca_file.empty())
        context->set_default_verify_paths();
    else
        context->load_verify_file(options.ca_file);
    return context;
}

// What the server's 101 response agreed to.
struct agreement {
    std::string subprotocol;  // Sec-WebSocket-Protocol
    std::string extensions;   // Sec-WebSocket-Extensions
};

// TCP, then (for wss://) TLS, then the WebSocket handshake, with permessage-deflate offered when
// asked for (on either stream). Returns what the server agreed to.
template <class NextLayer>
asio::awaitable<agreement> open(websocket::stream<NextLayer>& ws, connect_options const& options,
                                tcp::resolver::results_type const& endpoints)
{
    auto& transport = beast::get_lowest_layer(ws);
    co_await transport.async_connect(endpoints, asio::use_awaitable);
    transport.socket().set_option(tcp::no_delay(true));
    if constexpr (!std::is_same_v<NextLayer, beast::tcp_stream>) {
        auto& tls = ws.next_layer().next_layer();
        auto const& name = options.server_name.empty() ? options.host : options.server_name;
        boost::system::error_code not_an_address;
        asio::ip::make_address(name, not_an_address);
        if (not_an_address) {  // SNI carries host names only
            // What SSL_set_tlsext_host_name expands to, without its C cast: OpenSSL copies the name.
            std::string sni = name;
            SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni.data());
        }
        tls.set_verify_callback(ssl::host_name_verification(name));
        co_await tls.async_handshake(ssl::stream_base::client, asio::use_awaitable);
    }

    std::string offered;
    for (auto const& p : options.subprotocols)
        offered += (offered.empty() ? "" : ", ") + p;
    ws.set_option(websocket::stream_base::decorator([offered, origin = options.origin](websocket::request_type& req) {
        if (!offered.empty())
            req.set(http::field::sec_websocket_protocol, offered);
        if (!origin.empty())
            req.set(http::field::origin, origin);
    }));
    ws.read_message_max(options.max_message_bytes);
    if (options.deflate) {
        websocket::permessage_deflate offer;
        offer.client_enable = true;  // Beast's defaults otherwise: it compresses every message
        ws.set_option(offer);
    }

    websocket::response_type response;
    auto const host = options.host + ":" + std::to_string(options.port);
    auto [ec] = co_await ws.async_handshake(response, host, options.path, nothrow);
    if (ec) {
        if (response.result_int() != 0 && response.result_int() != 101)
            throw handshake_rejected(response.result_int(), response.body());
        throw boost::system::system_error(ec, "WebSocket handshake");
    }
    co_return agreement{std::string(response[http::field::sec_websocket_protocol]),
                        std::string(response[http::field::sec_websocket_extensions])};
}

template <class NextLayer>
asio::awaitable<void> write_message(websocket::stream<NextLayer>& ws, std::string data, bool binary)
{
    ws.binary(binary);
    co_await ws.async_write(asio::buffer(data), asio::use_awaitable);
}

template <class NextLayer>
asio::awaitable<incoming> read_message(websocket::stream<NextLayer>& ws, beast::flat_buffer& buffer)
{
    auto [ec, bytes] = co_await ws.async_read(buffer, nothrow);
    incoming in;
    if (ec) {
        in.what = incoming::kind::closed;
        // A close frame that arrived counts even when the connection then ended badly (a server
        // that fails a connection may close it before our reply reaches it: RFC 6455 7.1.7; over
        // TLS, the end may come without a close_notify).
        if (ec == websocket::error::closed || ws.reason().code != websocket::close_code::none) {
            in.close_code = ws.reason().code;
            in.close_reason.assign(ws.reason().reason.data(), ws.reason().reason.size());
        } else {
            in.close_code = 1006;  // "abnormal closure": no close frame was received
            in.close_reason = ec.message();
        }
        co_return in;
    }
    in.what = ws.got_text() ? incoming::kind::text : incoming::kind::binary;
    in.payload = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    co_return in;
}

template <class NextLayer>
asio::awaitable<void> close_stream(websocket::stream<NextLayer>& ws, websocket::close_reason why)
{
    co_await ws.async_close(why, asio::use_awaitable);
}

}  // namespace

handshake_rejected::handshake_rejected(unsigned s, std::string b)
    : std::runtime_error("upgrade rejected with HTTP " + std::to_string(s)),
      status(s),
      body(std::move(b))
{
}

struct ws_client::impl {
    explicit impl(asio::any_io_executor const& ex)
        : ws(std::in_place_type<plain_websocket>, ex)
    {
    }
    impl(asio::any_io_executor const& ex, std::shared_ptr<ssl::context> context)
        : tls(std::move(context)),
          ws(std::in_place_type<tls_websocket>, ex, *tls)
    {
    }

    // Calls `operation` with the stream this client has, and returns what it returns.
    template <class Operation>
    auto with_stream(Operation const& operation)
    {
        return std::visit(operation, ws);
    }

    std::shared_ptr<ssl::context> tls;  // wss:// only; declared first, so it outlives the stream
    std::variant<plain_websocket, tls_websocket> ws;
    beast::flat_buffer buffer;
    std::string subprotocol;
    std::string extensions;
};

ws_client::ws_client(std::unique_ptr<impl> i)
    : impl_(std::move(i))
{
}
ws_client::ws_client(ws_client&&) noexcept = default;
ws_client& ws_client::operator=(ws_client&&) noexcept = default;
ws_client::~ws_client() = default;

std::string const& ws_client::subprotocol() const noexcept
{
    return impl_->subprotocol;
}

std::string const& ws_client::extensions() const noexcept
{
    return impl_->extensions;
}

asio::awaitable<ws_client> ws_client::connect(connect_options options)
{
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto const endpoints =
        co_await resolver.async_resolve(options.host, std::to_string(options.port), asio::use_awaitable);

    auto state =
        options.tls ? std::make_unique<impl>(executor, client_context(options)) : std::make_unique<impl>(executor);
    auto const opening = [&](auto& ws) { return open(ws, options, endpoints); };
    auto agreed = co_await state->with_stream(opening);
    state->subprotocol = std::move(agreed.subprotocol);
    state->extensions = std::move(agreed.extensions);
    co_return ws_client(std::move(state));
}

asio::awaitable<void> ws_client::send_text(std::string text)
{
    auto const writing = [&](auto& ws) { return write_message(ws, std::move(text), false); };
    co_await impl_->with_stream(writing);
}

asio::awaitable<void> ws_client::send_binary(std::string data)
{
    auto const writing = [&](auto& ws) { return write_message(ws, std::move(data), true); };
    co_await impl_->with_stream(writing);
}

asio::awaitable<incoming> ws_client::receive()
{
    auto const reading = [this](auto& ws) { return read_message(ws, impl_->buffer); };
    co_return co_await impl_->with_stream(reading);
}

asio::awaitable<protocol::envelope> ws_client::receive_envelope()
{
    auto in = co_await receive();
    if (in.closed())
        throw unexpected_message("connection closed (" + std::to_string(in.close_code) + " " + in.close_reason +
                                 ") while waiting for a message");
    auto envelope = protocol::parse_envelope(in.payload);
    if (!envelope)
        throw unexpected_message("not an envelope: " + in.payload);
    co_return std::move(*envelope);
}

asio::awaitable<incoming> ws_client::receive_close()
{
    auto in = co_await receive();
    if (!in.closed())
        throw unexpected_message("expected the connection to close, got a message: " + in.payload.substr(0, 200));
    co_return in;
}

asio::awaitable<void> ws_client::close(std::uint16_t code, std::string reason)
{
    websocket::close_reason why(static_cast<websocket::close_code>(code));
    why.reason.assign(reason.data(), std::min(reason.size(), why.reason.max_size()));
    auto const closing = [&](auto& ws) { return close_stream(ws, why); };
    co_await impl_->with_stream(closing);
}

}  // namespace coropush::client
