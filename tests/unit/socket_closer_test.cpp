// The socket closer: a socket handed to it is let go at once and closed (the peer sees the end):
// on its thread while it waits there, at once by the caller past the limit or after stop(); what
// waited too long is closed by the next caller; stop() returns with everything closed.
// Real sockets on loopback; the thread's close is a stand-in only where a test must hold it.
#include "net/socket_closer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <vector>

namespace coropush::net {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

bool descriptor_open(int fd)
{
    return ::fcntl(fd, F_GETFD) != -1;
}

// Connected pairs over loopback: `server` ends are what a session would hand to the closer.
class socket_closer_test : public ::testing::Test {
protected:
    socket_closer_test() { acceptor_.listen(); }

    struct pair {
        tcp::socket client;
        tcp::socket server;
    };
    pair connect()
    {
        tcp::socket client(io_);
        client.connect(acceptor_.local_endpoint());
        // A blocking read below must end within the test's time, whatever happens.
        timeval limit{10, 0};
        ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        return {std::move(client), acceptor_.accept()};
    }

    // Reads until the server's end is gone: true for the end of the stream, false for anything
    // else (the receive timeout).
    static bool sees_end(tcp::socket& client)
    {
        std::array<char, 64> buffer{};
        boost::system::error_code ec;
        while (!ec)
            client.read_some(asio::buffer(buffer), ec);
        return ec == asio::error::eof;
    }

    asio::io_context io_;
    tcp::acceptor acceptor_{io_, {asio::ip::address_v4::loopback(), 0}};
    gauge waiting_{0};
};

// (Whether the thread or this call closed it is not seen here: the held tests below see it.)
TEST_F(socket_closer_test, a_socket_handed_over_is_let_go_at_once_and_the_peer_sees_the_end)
{
    socket_closer closer(waiting_);
    auto p = connect();
    closer.close(p.server);
    EXPECT_FALSE(p.server.is_open());  // let go of at once, whenever its descriptor is closed
    EXPECT_TRUE(sees_end(p.client));
    closer.stop();
    EXPECT_EQ(waiting_.load(), 0);
}

TEST_F(socket_closer_test, past_the_limit_the_caller_closes_at_once)
{
    socket_closer closer(waiting_, 0);
    auto p = connect();
    int const fd = p.server.native_handle();
    closer.close(p.server);
    EXPECT_FALSE(p.server.is_open());
    EXPECT_FALSE(descriptor_open(fd));  // closed by the call itself
    EXPECT_EQ(waiting_.load(), 0);
    EXPECT_TRUE(sees_end(p.client));
}

// The thread's first close is held until the test lets it go, so what the closer has in hand is
// known. Every other close (the thread's later ones, a caller's) goes through at once.
struct held_closes {
    std::promise<void> first_taken;
    std::shared_future<void> released;
    std::atomic<bool> holding{true};
};
held_closes* held = nullptr;
void held_close(int fd)
{
    if (held->holding.exchange(false)) {
        held->first_taken.set_value();
        held->released.wait();
    }
    ::close(fd);
}

// Three connections; the first one's close is held in the closer's thread from the start.
class held_closer_test : public socket_closer_test {
public:
    ~held_closer_test() override { held = nullptr; }
    held_closer_test(held_closer_test const&) = delete;
    held_closer_test& operator=(held_closer_test const&) = delete;
    held_closer_test(held_closer_test&&) = delete;
    held_closer_test& operator=(held_closer_test&&) = delete;

protected:
    held_closer_test()
    {
        held = &closes_;
        pairs_.reserve(3);
        fds_.reserve(3);
        for (int i = 0; i < 3; ++i) {
            pairs_.push_back(connect());
            fds_.push_back(pairs_.back().server.native_handle());
        }
    }
    // Hands the first socket to `closer` and returns once its thread holds it.
    void hold_the_first(socket_closer& closer)
    {
        closer.close(pairs_[0].server);
        closes_.first_taken.get_future().wait();
    }
    void release() { release_.set_value(); }

    std::promise<void> release_;
    held_closes closes_{{}, release_.get_future().share(), {true}};
    std::vector<pair> pairs_;
    std::vector<int> fds_;
};

TEST_F(held_closer_test, counts_what_is_being_closed_and_what_waits_against_the_limit)
{
    socket_closer closer(waiting_, 2, std::chrono::hours(1), held_close);
    hold_the_first(closer);          // being closed
    closer.close(pairs_[1].server);  // waits
    closer.close(pairs_[2].server);  // one being closed and one waiting make the limit: at once
    EXPECT_TRUE(descriptor_open(fds_[0]));
    EXPECT_TRUE(descriptor_open(fds_[1]));
    EXPECT_FALSE(descriptor_open(fds_[2]));
    EXPECT_EQ(waiting_.load(), 2);
    EXPECT_TRUE(sees_end(pairs_[2].client));

    release();
    EXPECT_TRUE(sees_end(pairs_[0].client));
    EXPECT_TRUE(sees_end(pairs_[1].client));
    closer.stop();
    EXPECT_EQ(waiting_.load(), 0);
}

TEST_F(held_closer_test, what_waited_too_long_is_closed_by_the_next_caller_with_its_own)
{
    // Every wait is too long: the thread is held in its first close, as if it got no time.
    socket_closer closer(waiting_, 100, std::chrono::nanoseconds(0), held_close);
    hold_the_first(closer);
    closer.close(pairs_[1].server);  // waits, behind nothing: no one waited before it
    EXPECT_TRUE(descriptor_open(fds_[1]));
    closer.close(pairs_[2].server);  // the one waiting is overdue: both closed here
    EXPECT_FALSE(descriptor_open(fds_[1]));
    EXPECT_FALSE(descriptor_open(fds_[2]));
    EXPECT_TRUE(descriptor_open(fds_[0]));
    EXPECT_EQ(waiting_.load(), 1);
    EXPECT_TRUE(sees_end(pairs_[1].client));
    EXPECT_TRUE(sees_end(pairs_[2].client));

    release();
    EXPECT_TRUE(sees_end(pairs_[0].client));
    closer.stop();
    EXPECT_EQ(waiting_.load(), 0);
}

// stop() while sockets wait: the thread is held in its first close, two more wait behind it when
// stop() comes. stop() returns only once the thread has closed all three.
TEST_F(held_closer_test, stop_with_sockets_waiting_returns_once_the_thread_has_closed_them)
{
    socket_closer closer(waiting_, 100, std::chrono::hours(1), held_close);
    hold_the_first(closer);
    closer.close(pairs_[1].server);
    closer.close(pairs_[2].server);
    EXPECT_TRUE(descriptor_open(fds_[1]));
    EXPECT_TRUE(descriptor_open(fds_[2]));
    EXPECT_EQ(waiting_.load(), 3);
    auto stopping = std::async(std::launch::async, [&] { closer.stop(); });
    EXPECT_EQ(stopping.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "the thread is held";
    release();
    stopping.get();
    for (int const fd : fds_)
        EXPECT_FALSE(descriptor_open(fd));
    EXPECT_EQ(waiting_.load(), 0);
    for (auto& p : pairs_)
        EXPECT_TRUE(sees_end(p.client));
}

// stop() returns only once every socket handed over is closed (some perhaps by the thread before
// it); after it, the caller closes at once. Every connection is made before the first hand-over:
// a descriptor the thread has closed could otherwise be reused by the next connection, and seem
// open.
TEST_F(socket_closer_test, after_stop_every_socket_handed_over_is_closed_and_later_ones_at_once)
{
    socket_closer closer(waiting_);
    std::vector<pair> pairs;
    std::vector<int> fds;
    pairs.reserve(4);
    fds.reserve(4);
    for (int i = 0; i < 4; ++i) {
        pairs.push_back(connect());
        fds.push_back(pairs.back().server.native_handle());
    }
    for (auto& p : pairs)
        closer.close(p.server);
    closer.stop();
    for (int const fd : fds)
        EXPECT_FALSE(descriptor_open(fd));
    EXPECT_EQ(waiting_.load(), 0);
    for (auto& p : pairs)
        EXPECT_TRUE(sees_end(p.client));

    auto late = connect();
    int const fd = late.server.native_handle();
    closer.close(late.server);
    EXPECT_FALSE(descriptor_open(fd));
    EXPECT_TRUE(sees_end(late.client));
    closer.stop();  // again: nothing happens
}

}  // namespace
}  // namespace coropush::net
