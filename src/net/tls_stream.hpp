// The stream a TLS connection runs on, from its handshake to its end. Included only by the session
// sources: it brings in Asio's SSL and Beast's stream headers.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace coropush::net {

// Beast's ssl_stream: Asio's TLS stream behind a layer that hands OpenSSL a gathered write as one
// buffer, so that a WebSocket frame's header and payload leave as one TLS record, not two. Under
// it a tcp_stream, whose timer gives the handshake and each HTTP request their deadlines. A plain
// session lets go of its tcp_stream after the upgrade and keeps the bare socket; a TLS session
// cannot (its TLS state lives in this stream), so it keeps the tcp_stream, timer switched off:
// the WebSocket layer keeps time itself.
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

}  // namespace coropush::net
