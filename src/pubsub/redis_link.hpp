// One connection to a Redis server, driven by the server's own io_context: hiredis does the
// protocol (RESP), Asio does the waiting. hiredis asks, through its event hooks, to be told when
// the socket is readable or writable; the link answers with stream_descriptor::async_wait on the
// link's strand and calls hiredis back. No extra thread, no blocking call (the host name is
// resolved by Asio before hiredis sees an address).
//
// The link keeps itself connected: a coroutine connects, waits until the connection is lost,
// and reconnects with jittered exponential backoff, telling its owner each time it comes up or
// goes down. Every member function, and every callback, runs on the link's strand.
//
// A connection can also be lost without being closed: a Redis that is stopped (SIGSTOP, a VM
// paused, a fork that stalls) keeps its sockets open and answers nothing. So while up, the link
// sends a heartbeat every heartbeat_interval and counts the bytes Redis has not answered (see
// pubsub/redis_liveness.hpp); a heartbeat unanswered past reply_timeout, or a command that would
// pass max_unanswered_bytes, and the link gives up on the connection: it resets it (what is still
// in our socket buffer is discarded, never delivered late), and reconnects as after any loss.
#pragma once

#include "pubsub/redis_liveness.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct redisAsyncContext;  // hiredis

namespace coropush::pubsub {

struct redis_link_settings {
    // Both the TCP connect and the first heartbeat's reply: a link is up once Redis answers.
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds first_retry{100};  // the first reconnect waits 50..100 ms,
    std::chrono::milliseconds max_retry{5000};   // doubling up to 2.5..5 s
    // The heartbeat and the bound on unanswered bytes.
    redis_liveness_limits liveness;
    // Empty: the heartbeat is PING. A connection that SUBSCRIBEs names a channel of its own
    // instead, and the heartbeat subscribes to it again: hiredis 0.14 (Debian 12's) never hands
    // a PING reply to its callback once the connection is in subscribed mode (it looks the
    // reply up as a channel message), while every version hands over a SUBSCRIBE's
    // confirmation. No one publishes on that channel.
    std::string heartbeat_channel;
};

class redis_link {
public:
    // Why the link gave up on a connection that was still open.
    enum class stall {
        no_reply,             // a heartbeat went unanswered past reply_timeout
        too_many_unanswered,  // a command would have passed max_unanswered_bytes
    };

    struct events {
        // Connected (again), and Redis answered. `reconnected` is false the first time.
        std::function<void(bool reconnected)> up;
        // The connection is gone (or could not be made); commands fail until `up` again.
        std::function<void(std::string const& why)> down;
        // Redis stopped answering on an open connection; `down` follows.
        std::function<void(stall why)> stalled;
        // The bytes sent and not yet answered went up or down by `change` (for a gauge).
        std::function<void(std::int64_t change)> unanswered_changed;
    };
    using settings = redis_link_settings;
    // hiredis's reply callback: (context, redisReply* or nullptr when the connection went away
    // before the reply came, privdata).
    using reply_callback = void (*)(redisAsyncContext*, void*, void*);

    redis_link(boost::asio::any_io_executor strand, std::string name, std::string host, std::uint16_t port,
               events handlers, settings config = {});
    ~redis_link();
    redis_link(redis_link const&) = delete;
    redis_link& operator=(redis_link const&) = delete;

    void start();  // begin connecting
    void stop();   // disconnect now (pending replies get nullptr) and stay down

    bool connected() const noexcept;

    // Sends one command, binary-safe (each argument may hold any bytes). False when the link is
    // down, or when the command would pass max_unanswered_bytes (then the link gives up on the
    // connection and reconnects). `callback` may be null (no interest in it).
    bool command(std::span<std::string_view const> args, reply_callback callback = nullptr, void* privdata = nullptr);
    bool command(std::initializer_list<std::string_view> args, reply_callback callback = nullptr,
                 void* privdata = nullptr)
    {
        return command(std::span(args.begin(), args.size()), callback, privdata);
    }

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace coropush::pubsub
