// A TCP (or TLS) connection for tests that must send what a well-behaved client never would:
// malformed or trickled HTTP, hand-built WebSocket frames, a client that stops reading.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace coropush::testing {

struct http_reply {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// One WebSocket frame as the server sent it.
struct ws_frame {
    bool fin = false;
    std::uint8_t opcode = 0;  // 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong
    bool compressed = false;  // RSV1: the message's payload is deflated (permessage-deflate)
    std::string payload;
    std::uint16_t close_code() const;  // for close frames: the code, 1005 when none
};

class raw_connection {
public:
    // `receive_buffer` (bytes, 0: the system's default) is set before connecting: a small one models
    // a client that stops reading, and must be set before the TCP window is advertised (the
    // segment size is lowered with it, so that the window never stays below one segment).
    static boost::asio::awaitable<raw_connection> connect(std::uint16_t port, int receive_buffer = 0);
    // The same over TLS (HTTPS, wss://), checking the server's certificate against the CA in
    // `ca_file`. Everything below then goes through TLS.
    static boost::asio::awaitable<raw_connection> connect_tls(std::uint16_t port, std::string ca_file);

    raw_connection(raw_connection const&) = delete;
    raw_connection& operator=(raw_connection const&) = delete;
    raw_connection(raw_connection&&) noexcept;
    raw_connection& operator=(raw_connection&&) noexcept;
    ~raw_connection();

    boost::asio::awaitable<void> write(std::string bytes);
    // Reads one HTTP response (headers and body; for the answer to a HEAD request, pass
    // `head`: its Content-Length describes a body that is not sent).
    boost::asio::awaitable<http_reply> read_http(bool head = false);
    // True when the server has closed the connection (reads EOF or reset, discarding data; over
    // TLS, a close_notify or the end of TCP).
    boost::asio::awaitable<bool> closed_by_server();
    // Reads, discarding, to the server's end, and says how it ended: asio::error::eof for an
    // orderly end (a FIN), connection_reset for a reset.
    boost::asio::awaitable<boost::system::error_code> how_the_server_ended();
    // Ends the client's side of the TCP connection (a FIN, no closing handshake), still reading.
    void stop_sending();

    // Sends a WebSocket upgrade request for `path` and reads the 101 (or whatever comes).
    boost::asio::awaitable<http_reply> upgrade(std::string path = "/", std::string extra_headers = {});
    boost::asio::awaitable<ws_frame> read_frame();

    // A masked client frame (RFC 6455 5.2).
    static std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
    static std::string close_frame(std::uint16_t code, std::string_view reason = {});

    // A ready-made upgrade request.
    static std::string upgrade_request(std::string_view path, std::string_view extra_headers = {});

private:
    struct impl;
    explicit raw_connection(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace coropush::testing
