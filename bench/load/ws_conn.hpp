// One client connection of the load tool: TCP connect, the TLS handshake for wss://, the upgrade,
// writes, and a read loop that hands each complete message to a callback (answering pings on the
// way).
#pragma once

#include "load/read_buffer.hpp"
#include "load/wire.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace bench {

struct target {
    boost::asio::ip::tcp::endpoint endpoint;
    std::string host;  // for the Host header
    std::string path = "/";
    std::shared_ptr<boost::asio::ssl::context> tls;  // set: wss:// (load/tls_client.hpp)
};

// recvmsg on `descriptor` (with `flags`) into [data, data + size), and the kernel's receive
// timestamp of what it read (SO_TIMESTAMPNS, if the socket asks for it) in `arrival`, or empty
// when there is none. Returns what recvmsg returns.
long receive_stamped(int descriptor, void* data, std::size_t size, int flags,
                     std::optional<std::chrono::system_clock::time_point>& arrival) noexcept;

class ws_conn {
public:
    // Both out of line, where tls_layer is complete.
    explicit ws_conn(boost::asio::any_io_executor executor);
    ~ws_conn();
    ws_conn(ws_conn const&) = delete;
    ws_conn& operator=(ws_conn const&) = delete;

    // Connects, does the TLS handshake if `where.tls` is set, and upgrades. Returns an empty
    // string, or what went wrong.
    boost::asio::awaitable<std::string> open(target const& where, std::string_view subprotocol);

    boost::asio::awaitable<bool> write(std::string_view bytes);

    // Reads what has arrived and calls on_message(opcode, payload) for each complete message.
    // Returns false when the connection has ended (close frame, EOF or error): then `closed_code`
    // tells which close code arrived (0 if none).
    using message_handler = std::function<void(opcode, std::string_view)>;
    boost::asio::awaitable<bool> read_some(message_handler const& on_message);

    // Sends a close frame (1000) and waits for the server's close frame, the close_notify exchange
    // over TLS, and the end of TCP.
    boost::asio::awaitable<bool> close_gracefully();

    void drop() noexcept;

    // From now on (plain ws:// only), each read also learns when its bytes reached this socket:
    // the kernel's receive timestamp (SO_TIMESTAMPNS), which a load tool too busy to read at once
    // does not delay. last_arrival() is that of the latest read; empty over TLS or when the
    // kernel gave none.
    void record_arrival_times();
    std::optional<std::chrono::system_clock::time_point> last_arrival() const noexcept { return last_arrival_; }

    std::uint16_t closed_code() const noexcept { return closed_code_; }
    bool violated() const noexcept { return violation_; }

private:
    // The TLS stream over socket_, defined in ws_conn.cpp so that Asio's SSL headers stay there.
    struct tls_layer;

    // Starts the same operation on whichever stream the connection speaks through.
    template <class Operation>
    auto on_stream(Operation&& operation);

    boost::asio::ip::tcp::socket socket_;
    std::unique_ptr<tls_layer> tls_;  // null: plain ws://
    read_buffer buffer_;
    std::string fragments_;  // a fragmented message being reassembled
    std::string pongs_;      // pongs to send after this read
    std::uint16_t closed_code_ = 0;
    bool violation_ = false;
    bool arrival_times_ = false;
    std::optional<std::chrono::system_clock::time_point> last_arrival_;

    // A read with the kernel's receive timestamp (recvmsg), for record_arrival_times.
    boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_with_arrival_time();
};

}  // namespace bench
