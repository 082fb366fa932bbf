// A typed WebSocket client as a coroutine API: connect, send a typed message, await the next one.
// The tests drive the real server with it, over ws:// or wss://; tools can too.
//
//   connect_options const options{.port = port};  // named first: see CONTRIBUTING.md, GCC 12
//   auto client = co_await ws_client::connect(options);
//   protocol::hello const hello{"hi"};
//   co_await client.send(hello, 1);
//   auto [welcome, id] = co_await client.receive_as<protocol::welcome>();
#pragma once

#include "protocol/codec.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coropush::client {

struct connect_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1337;
    std::string path = "/";
    // Offered in Sec-WebSocket-Protocol. {"coropush.v1"}: the JSON dialect; empty: plain text.
    std::vector<std::string> subprotocols = {"coropush.v1"};
    std::string origin;  // sent as Origin when not empty (what a browser would send)
    std::size_t max_message_bytes = std::size_t{16} * 1024 * 1024;
    // Offer permessage-deflate (RFC 7692) in Sec-WebSocket-Extensions, as browsers do; when the
    // server accepts, every message this client sends is compressed. Over ws:// and wss:// alike.
    bool deflate = false;
    // wss://: TLS, with the server's certificate checked against the CAs in `ca_file` (PEM; empty:
    // the system's) and for the name `server_name` (empty: `host`), which is also sent as SNI
    // unless it is an IP address.
    bool tls = false;
    std::string ca_file;
    std::string server_name;
};

// The server answered the upgrade with something other than 101.
class handshake_rejected : public std::runtime_error {
public:
    handshake_rejected(unsigned status, std::string body);
    unsigned status;
    std::string body;
};

// The server sent something the caller did not expect (wrong type, not an envelope, a close).
class unexpected_message : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct incoming {
    enum class kind { text, binary, closed };
    kind what = kind::closed;
    std::string payload;           // the message (text or binary)
    std::uint16_t close_code = 0;  // closed: the server's close code, or 1006 if the TCP connection just ended
    std::string close_reason;

    bool closed() const noexcept { return what == kind::closed; }
};

class ws_client {
public:
    // Resolves, connects and performs the WebSocket handshake on the calling coroutine's executor.
    static boost::asio::awaitable<ws_client> connect(connect_options options);

    ws_client(ws_client const&) = delete;
    ws_client& operator=(ws_client const&) = delete;
    ws_client(ws_client&&) noexcept;
    ws_client& operator=(ws_client&&) noexcept;
    ~ws_client();

    // The subprotocol the server chose ("" when none).
    std::string const& subprotocol() const noexcept;
    // The extensions the server accepted, as its Sec-WebSocket-Extensions header says ("" when none).
    std::string const& extensions() const noexcept;

    boost::asio::awaitable<void> send_text(std::string text);
    boost::asio::awaitable<void> send_binary(std::string data);

    template <class Message>
    boost::asio::awaitable<void> send(Message const& message, protocol::request_id id = {})
    {
        return send_text(protocol::encode(message, id));
    }

    // The next message, or the end of the connection.
    boost::asio::awaitable<incoming> receive();
    // The next message as an envelope; throws unexpected_message if it is not one.
    boost::asio::awaitable<protocol::envelope> receive_envelope();

    // The next message, which must be of type Message; returns it with its id.
    template <class Message>
    boost::asio::awaitable<std::pair<Message, protocol::request_id>> receive_as()
    {
        auto envelope = co_await receive_envelope();
        auto typed = protocol::data_as<Message>(envelope);
        if (auto const* problem = std::get_if<std::string>(&typed))
            throw unexpected_message(*problem);
        co_return std::pair<Message, protocol::request_id>{std::get<Message>(std::move(typed)), envelope.id};
    }

    // Reads until the server closes; returns the close (throws unexpected_message on a message).
    boost::asio::awaitable<incoming> receive_close();

    // Starts the closing handshake and waits for the server's close frame.
    boost::asio::awaitable<void> close(std::uint16_t code = 1000, std::string reason = {});

private:
    struct impl;
    explicit ws_client(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace coropush::client
