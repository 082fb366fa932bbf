// The client's Beast machinery, kept out of its header.
#include "client/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace coropush::client {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

handshake_rejected::handshake_rejected(unsigned s, std::string b)
    : std::runtime_error("upgrade rejected with HTTP " + std::to_string(s)),
      status(s),
      body(std::move(b))
{
}

struct ws_client::impl {
    explicit impl(asio::any_io_executor ex)
        : ws(ex)
    {
    }
    websocket::stream<beast::tcp_stream> ws;
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

    auto state = std::make_unique<impl>(executor);
    auto& ws = state->ws;
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
    beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));

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
    auto [ec] = co_await ws.async_handshake(response, host, options.path, asio::as_tuple(asio::use_awaitable));
    if (ec) {
        if (response.result_int() != 0 && response.result_int() != 101)
            throw handshake_rejected(response.result_int(), response.body());
        throw boost::system::system_error(ec, "WebSocket handshake");
    }
    state->subprotocol = std::string(response[http::field::sec_websocket_protocol]);
    state->extensions = std::string(response[http::field::sec_websocket_extensions]);
    co_return ws_client(std::move(state));
}

asio::awaitable<void> ws_client::send_text(std::string text)
{
    impl_->ws.text(true);
    co_await impl_->ws.async_write(asio::buffer(text), asio::use_awaitable);
}

asio::awaitable<void> ws_client::send_binary(std::string data)
{
    impl_->ws.binary(true);
    co_await impl_->ws.async_write(asio::buffer(data), asio::use_awaitable);
}

asio::awaitable<incoming> ws_client::receive()
{
    auto& ws = impl_->ws;
    auto& buffer = impl_->buffer;
    auto [ec, bytes] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    incoming in;
    if (ec) {
        in.what = incoming::kind::closed;
        // A close frame that arrived counts even when the TCP connection then ended badly (a
        // server that fails a connection may close it before our reply reaches it: RFC 6455 7.1.7).
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
    co_await impl_->ws.async_close(why, asio::use_awaitable);
}

}  // namespace coropush::client
