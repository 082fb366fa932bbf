// One keep-alive HTTP/1.1 client connection of the load tool, as much as the server API's
// benchmark needs: write requests, read each response's status and body (Content-Length
// framing, as the server writes its JSON answers). Reads go into one reusable buffer and are
// parsed in place, like ws_conn's.
#pragma once

#include "load/read_buffer.hpp"
#include "load/ws_conn.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string_view>

namespace bench {

struct http_answer {
    unsigned status = 0;    // 0: the connection ended, or the response was not HTTP/1.1
    std::string_view body;  // valid until the next read
};

class http_conn {
public:
    explicit http_conn(boost::asio::any_io_executor executor)
        : socket_(executor)
    {
    }

    // Connects. Returns an empty string, or what went wrong.
    boost::asio::awaitable<std::string> open(target const& where);

    boost::asio::awaitable<bool> write(std::string_view bytes);

    // The next response (responses come in request order on one connection).
    boost::asio::awaitable<http_answer> read_answer();

    void drop() noexcept;

private:
    // Reads more bytes into the buffer; false when the connection has ended.
    boost::asio::awaitable<bool> fill();

    boost::asio::ip::tcp::socket socket_;
    read_buffer buffer_;
};

}  // namespace bench
