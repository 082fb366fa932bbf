// The load tool's HTTP connection.
#include "load/http_conn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bench {
namespace asio = boost::asio;
namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// The value of the Content-Length header in `head` (the status line and headers), or nothing.
bool content_length(std::string_view head, std::size_t& length)
{
    constexpr std::string_view name = "content-length:";
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
        auto const line = head.substr(at + 2, name.size());
        if (line.size() == name.size() && std::equal(line.begin(), line.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == b;
            })) {
            auto const* p = head.data() + at + 2 + name.size();
            auto const* end = head.data() + head.size();
            while (p != end && (*p == ' ' || *p == '\t'))
                ++p;
            auto const [stop, ec] = std::from_chars(p, end, length);
            return ec == std::errc() && stop != p;
        }
    }
    return false;
}

}  // namespace

asio::awaitable<std::string> http_conn::open(target const& where)
{
    auto [ec] = co_await socket_.async_connect(where.endpoint, nothrow);
    if (ec)
        co_return "connect: " + ec.message();
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return std::string();
}

asio::awaitable<bool> http_conn::write(std::string_view bytes)
{
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), nothrow);
    co_return !ec;
}

asio::awaitable<bool> http_conn::fill()
{
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(), nothrow);
    if (ec)
        co_return false;
    buffer_.commit(n);
    co_return true;
}

asio::awaitable<http_answer> http_conn::read_answer()
{
    // The head: up to the blank line. (fill() may move the unread bytes: offsets, not pointers.)
    std::size_t head_end = 0;
    for (;;) {
        if (auto const blank = buffer_.unread().find("\r\n\r\n"); blank != std::string_view::npos) {
            head_end = blank + 4;
            break;
        }
        if (!co_await fill())
            co_return http_answer{};
    }
    std::size_t length = 0;
    {
        auto const head = buffer_.unread().substr(0, head_end);
        constexpr std::string_view version = "HTTP/1.1 ";
        if (!head.starts_with(version) || head.size() < version.size() + 3 || !content_length(head, length))
            co_return http_answer{};
    }
    while (buffer_.unread().size() < head_end + length) {
        if (!co_await fill())
            co_return http_answer{};
    }
    auto const unread = buffer_.unread();
    unsigned status = 0;  // stays 0 unless the status is three digits
    (void)std::from_chars(unread.data() + 9, unread.data() + 12, status);
    http_answer const answer{status, unread.substr(head_end, length)};
    buffer_.consume(head_end + length);
    co_return answer;
}

void http_conn::drop() noexcept
{
    boost::system::error_code ignored;
    socket_.close(ignored);
}

}  // namespace bench
