// One connection to a Redis server, driven by the server's own io_context: hiredis does the
// protocol (RESP), Asio does the waiting. hiredis asks, through its event hooks, to be told when
// the socket is readable or writable; the link answers with stream_descriptor::async_wait on the
// link's strand and calls hiredis back. No extra thread, no blocking call (the host name is
// resolved by Asio before hiredis sees an address).
//
// The link keeps itself connected: a coroutine connects, waits until the connection is lost,
// and reconnects with jittered exponential backoff, telling its owner each time it comes up or
// goes down. Every member function, and every callback, runs on the link's strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct redisAsyncContext;  // hiredis

namespace coropush {

struct redis_link_timing {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds first_retry{100};  // the first reconnect waits 50..100 ms,
    std::chrono::milliseconds max_retry{5000};   // doubling up to 2.5..5 s
};

class redis_link {
public:
    struct events {
        // Connected (again). `reconnected` is false the first time.
        std::function<void(bool reconnected)> up;
        // The connection is gone (or could not be made); commands fail until `up` again.
        std::function<void(std::string const& why)> down;
    };
    using timing = redis_link_timing;
    // hiredis's reply callback: (context, redisReply* or nullptr when the connection went away
    // before the reply came, privdata).
    using reply_callback = void (*)(redisAsyncContext*, void*, void*);

    redis_link(boost::asio::any_io_executor strand, std::string name, std::string host, std::uint16_t port,
               events handlers, timing times = {});
    ~redis_link();
    redis_link(redis_link const&) = delete;
    redis_link& operator=(redis_link const&) = delete;

    void start();  // begin connecting
    void stop();   // disconnect now (pending replies get nullptr) and stay down

    bool connected() const noexcept;

    // Sends one command, binary-safe (each argument may hold any bytes). False when the link is
    // down. `callback` may be null (no interest in the reply).
    bool command(std::initializer_list<std::string_view> args, reply_callback callback = nullptr,
                 void* privdata = nullptr);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace coropush
