// One client connection of the load tool: TCP connect, the upgrade, writes, and a read loop that
// hands each complete message to a callback (answering pings on the way).
#pragma once

#include "load/read_buffer.hpp"
#include "load/wire.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

namespace bench {

struct target {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string host;  // for the Host header
    std::string path = "/";
};

class ws_conn {
public:
    explicit ws_conn(boost::asio::any_io_executor executor)
        : socket_(executor)
    {
    }

    // Connects and upgrades. Returns an empty string, or what went wrong.
    boost::asio::awaitable<std::string> open(target const& where, std::string_view subprotocol);

    boost::asio::awaitable<bool> write(std::string_view bytes);

    // Reads what has arrived and calls on_message(opcode, payload) for each complete message.
    // Returns false when the connection has ended (close frame, EOF or error): then `closed_code`
    // tells which close code arrived (0 if none).
    using message_handler = std::function<void(opcode, std::string_view)>;
    boost::asio::awaitable<bool> read_some(message_handler const& on_message);

    // Sends a close frame (1000) and waits for the server's close frame and the end of TCP.
    boost::asio::awaitable<bool> close_gracefully();

    void drop() noexcept;

    std::uint16_t closed_code() const noexcept { return closed_code_; }
    bool violated() const noexcept { return violation_; }

private:
    boost::asio::ip::tcp::socket socket_;
    read_buffer buffer_;
    std::string fragments_;  // a fragmented message being reassembled
    std::string pongs_;      // pongs to send after this read
    std::uint16_t closed_code_ = 0;
    bool violation_ = false;
};

}  // namespace bench
