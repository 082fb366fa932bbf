// A hiredis async context on Asio: the event hooks, the connect/reconnect coroutine, and the
// heartbeat that tells a hung Redis from a quiet one.
#include "pubsub/redis_link.hpp"

#include "core/async.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/small_vector.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <random>
#include <span>

#include <sys/socket.h>

namespace coropush::pubsub {
namespace asio = boost::asio;

namespace {
using clock = std::chrono::steady_clock;
using arguments = std::span<std::string_view const>;

// The size of a command in the Redis protocol (RESP), as hiredis writes it: what it costs in
// hiredis's output buffer, in the socket buffers, and in Redis until it is answered.
std::size_t resp_size(arguments args)
{
    auto const digits = [](std::size_t n) {
        std::size_t d = 1;
        for (; n >= 10; n /= 10)
            ++d;
        return d;
    };
    std::size_t bytes = 1 + digits(args.size()) + 2;  // *<count>\r\n
    for (auto const& a : args)
        bytes += 1 + digits(a.size()) + 2 + a.size() + 2;  // $<length>\r\n<bytes>\r\n
    return bytes;
}

bool is_subscribe_confirmation(redisReply const* r)
{
    return r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->str != nullptr &&
           std::string_view(r->element[0]->str, r->element[0]->len) == "subscribe";
}
}  // namespace

struct redis_link::impl : std::enable_shared_from_this<impl> {
    enum class state { down, connecting, up };

    impl(asio::any_io_executor ex, std::string link_name, std::string host_name, std::uint16_t port_number,
         events handlers, settings link_config)
        : strand(std::move(ex)),
          name(std::move(link_name)),
          host(std::move(host_name)),
          port(port_number),
          on(std::move(handlers)),
          config(std::move(link_config)),
          owed(config.liveness),
          socket(strand),
          wake(strand),
          retry(strand),
          deadline(strand),
          resolver(strand)
    {
    }

    ~impl() { close_context(); }
    impl(impl const&) = delete;
    impl& operator=(impl const&) = delete;
    impl(impl&&) = delete;
    impl& operator=(impl&&) = delete;

    asio::any_io_executor strand;
    std::string name;
    std::string host;
    std::uint16_t port;
    events on;
    settings config;
    redis_liveness owed;  // the current connection's heartbeats and unanswered bytes

    redisAsyncContext* context = nullptr;
    asio::posix::stream_descriptor socket;  // hiredis's socket; hiredis owns and closes it
    std::uint64_t generation = 0;           // bumped when a context ends: its stale waits ignore themselves
    bool want_read = false;
    bool want_write = false;
    bool read_waiting = false;
    bool write_waiting = false;

    state now = state::down;
    std::string why_down;
    bool stopped = false;
    wake_signal wake;  // notified whenever `now` changes: the run loop's wake-up call
    asio::steady_timer retry;
    asio::steady_timer deadline;
    asio::ip::tcp::resolver resolver;

    static impl& of(void* privdata) { return *static_cast<impl*>(privdata); }
    static impl& of(redisAsyncContext const* c) { return *static_cast<impl*>(c->data); }

    void become(state s, std::string why = {})
    {
        now = s;
        if (!why.empty())
            why_down = std::move(why);
        wake.notify();
    }

    // Waits until become() is called (or stop()), or until `at` if that comes first.
    asio::awaitable<void> state_change(clock::time_point at = clock::time_point::max())
    {
        co_await wake.wait_until(at);
    }

    // --- hiredis event hooks: "tell me when the socket is readable / writable" ---

    void arm_read()
    {
        if (read_waiting || context == nullptr || !want_read)
            return;
        read_waiting = true;
        socket.async_wait(asio::posix::descriptor_base::wait_read,
                          [self = shared_from_this(), gen = generation](boost::system::error_code ec) {
                              if (gen != self->generation)
                                  return;  // that context has ended
                              self->read_waiting = false;
                              if (ec || self->context == nullptr || !self->want_read)
                                  return;
                              redisAsyncHandleRead(self->context);  // may end the context
                              self->arm_read();
                          });
    }

    void arm_write()
    {
        if (write_waiting || context == nullptr || !want_write)
            return;
        write_waiting = true;
        socket.async_wait(asio::posix::descriptor_base::wait_write,
                          [self = shared_from_this(), gen = generation](boost::system::error_code ec) {
                              if (gen != self->generation)
                                  return;
                              self->write_waiting = false;
                              if (ec || self->context == nullptr || !self->want_write)
                                  return;
                              redisAsyncHandleWrite(self->context);  // the first one completes the connect
                              self->arm_write();
                          });
    }

    // hiredis is freeing the context (after an error, a disconnect, or our own free).
    void context_gone()
    {
        context = nullptr;
        ++generation;
        want_read = want_write = read_waiting = write_waiting = false;
        if (socket.is_open())
            (void)socket.release();  // cancels our waits; hiredis closes the socket itself
        forget_unanswered();
    }

    // --- the heartbeat and the bound on unanswered bytes ---

    // Nothing is owed any more: the connection is gone, and its bytes with it.
    void forget_unanswered()
    {
        auto const owed_bytes = static_cast<std::int64_t>(owed.unanswered_bytes());
        owed.reset();
        if (owed_bytes != 0 && on.unanswered_changed)
            on.unanswered_changed(-owed_bytes);
    }

    // Queues a command on the current context and counts its bytes.
    bool send(arguments args, reply_callback callback, void* privdata, bool heartbeat = false)
    {
        // Most commands have a few arguments (PUBLISH, SUBSCRIBE): those need no allocation.
        boost::container::small_vector<char const*, 8> argv;
        boost::container::small_vector<std::size_t, 8> lengths;
        for (auto const& a : args) {
            argv.push_back(a.data());
            lengths.push_back(a.size());
        }
        if (redisAsyncCommandArgv(context, callback, privdata, static_cast<int>(args.size()), argv.data(),
                                  lengths.data()) != REDIS_OK)
            return false;
        auto const bytes = resp_size(args);
        if (heartbeat)
            owed.heartbeat_sent(bytes, clock::now());
        else
            owed.sent(bytes);
        if (on.unanswered_changed)
            on.unanswered_changed(static_cast<std::int64_t>(bytes));
        return true;
    }

    void send_heartbeat()
    {
        if (config.heartbeat_channel.empty()) {
            std::array<std::string_view, 1> const ping{"PING"};
            send(ping, &impl::on_heartbeat_reply, this, true);
        } else {
            std::array<std::string_view, 2> const subscribe{"SUBSCRIBE", config.heartbeat_channel};
            send(subscribe, &impl::on_heartbeat_reply, this, true);
        }
    }

    static void on_heartbeat_reply(redisAsyncContext*, void* reply, void* privdata)
    {
        if (reply == nullptr)
            return;  // the connection is going away; context_gone() forgets what was owed
        auto& self = of(privdata);
        // On the heartbeat channel only our own subscription's confirmations count (a message
        // published there by someone else says nothing about our commands).
        if (!self.config.heartbeat_channel.empty() && !is_subscribe_confirmation(static_cast<redisReply*>(reply)))
            return;
        auto const before = self.owed.unanswered_bytes();
        self.owed.heartbeat_answered();
        auto const after = self.owed.unanswered_bytes();
        if (before != after && self.on.unanswered_changed)
            self.on.unanswered_changed(static_cast<std::int64_t>(after) - static_cast<std::int64_t>(before));
        if (self.now == state::connecting)
            self.become(state::up);  // the first answer: Redis is there and serving
    }

    // Redis keeps the connection open but does not answer: stop waiting for it. The socket is
    // reset (SO_LINGER 0) rather than closed, so the kernel drops what we wrote and Redis has
    // not read yet instead of delivering it, stale, whenever Redis resumes.
    void give_up(stall why, std::string what)
    {
        if (context == nullptr || now == state::down)
            return;
        if (on.stalled)
            on.stalled(why);
        ::linger const reset{1, 0};
        (void)::setsockopt(context->c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        close_context();
        become(state::down, std::move(what));
    }

    // While up: a heartbeat when one is due, and giving up when the oldest is overdue.
    void check_liveness()
    {
        if (now != state::up || context == nullptr)
            return;
        auto const at = clock::now();
        if (owed.overdue(at))
            give_up(stall::no_reply,
                    "no reply within " + std::to_string(config.liveness.reply_timeout.count()) + " ms");
        else if (owed.heartbeat_due(at))
            send_heartbeat();
    }

    void attach(redisAsyncContext* c)
    {
        context = c;
        c->data = this;
        boost::system::error_code ignored;
        socket.assign(c->c.fd, ignored);
        c->ev.data = this;
        c->ev.addRead = [](void* p) {
            of(p).want_read = true;
            of(p).arm_read();
        };
        c->ev.delRead = [](void* p) { of(p).want_read = false; };
        c->ev.addWrite = [](void* p) {
            of(p).want_write = true;
            of(p).arm_write();
        };
        c->ev.delWrite = [](void* p) { of(p).want_write = false; };
        c->ev.cleanup = [](void* p) { of(p).context_gone(); };
        // Set after the hooks: hiredis asks for the first write event (the connect's end) here.
        // A successful connect is not yet "up": the first heartbeat's reply is (a stopped Redis
        // still completes TCP handshakes: its kernel does them).
        redisAsyncSetConnectCallback(c, [](redisAsyncContext const* ac, int status) {
            if (status != REDIS_OK)
                of(ac).become(state::down, ac->errstr);  // hiredis frees the context after this
        });
        redisAsyncSetDisconnectCallback(c, [](redisAsyncContext const* ac, int status) {
            of(ac).become(state::down, status == REDIS_OK ? std::string("disconnected") : std::string(ac->errstr));
        });
    }

    void close_context() const
    {
        if (context != nullptr)
            redisAsyncFree(context);  // pending callbacks get nullptr replies; calls context_gone()
    }

    // Starts a non-blocking connect to an address (no name lookup inside hiredis).
    bool open(asio::ip::tcp::endpoint const& to)
    {
        redisAsyncContext* c = redisAsyncConnect(to.address().to_string().c_str(), to.port());
        if (c == nullptr) {
            why_down = "cannot allocate a Redis context";
            return false;
        }
        if (c->err != 0) {
            why_down = c->errstr;
            redisAsyncFree(c);
            return false;
        }
        now = state::connecting;
        attach(c);
        send_heartbeat();  // queued now, written once the connect completes
        return true;
    }

    std::chrono::milliseconds jittered(std::chrono::milliseconds base)
    {
        // Full jitter in [base/2, base]: nodes that lost Redis together do not return in lockstep.
        static thread_local std::minstd_rand random(std::random_device{}());
        std::uniform_int_distribution<long> spread(base.count() / 2, base.count());
        return std::chrono::milliseconds(spread(random));
    }

    // Connect, stay connected, reconnect: the link's whole life as one loop.
    asio::awaitable<void> run()
    {
        auto const keep_alive = shared_from_this();
        bool was_up = false;
        auto backoff = config.first_retry;
        while (!stopped) {
            // 1. Resolve the host name with Asio (hiredis would block in getaddrinfo).
            auto [ec, found] = co_await resolver.async_resolve(host, std::to_string(port), nothrow);
            if (stopped)
                break;
            if (ec || found.empty()) {
                why_down = "cannot resolve " + host + ": " + ec.message();
            } else if (open(found.begin()->endpoint())) {
                // 2. Wait for the connect to finish and Redis to answer, within the connect timeout.
                deadline.expires_after(config.connect_timeout);
                deadline.async_wait([self = shared_from_this(), gen = generation](boost::system::error_code e) {
                    if (!e && gen == self->generation && self->now == state::connecting) {
                        self->close_context();
                        self->become(state::down, "no answer within the connect timeout");
                    }
                });
                while (now == state::connecting && !stopped)
                    co_await state_change();
                deadline.cancel();

                // 3. Up: serve until the connection is lost or Redis stops answering, waking
                //    for each heartbeat and each heartbeat's deadline.
                if (now == state::up && !stopped) {
                    log_info(0, name, ": connected to redis ", host, ":", port);
                    backoff = config.first_retry;
                    if (on.up)
                        on.up(was_up);
                    was_up = true;
                    while (now == state::up && !stopped) {
                        co_await state_change(owed.next_check());
                        check_liveness();
                    }
                    if (stopped)
                        break;
                    log_warn(0, name, ": lost redis ", host, ":", port, ": ", why_down);
                    if (on.down)
                        on.down(why_down);
                }
            }
            if (stopped)
                break;
            if (!was_up && on.down)
                on.down(why_down);
            // 4. Back off, then try again.
            auto const pause = jittered(backoff);
            log_warn(0, name, ": redis ", host, ":", port, " unreachable (", why_down, "); retrying in ", pause.count(),
                     " ms");
            backoff = std::min(backoff * 2, config.max_retry);
            retry.expires_after(pause);
            co_await retry.async_wait(nothrow);
        }
    }
};

redis_link::redis_link(asio::any_io_executor strand, std::string name, std::string host, std::uint16_t port,
                       events handlers, settings config)
    : impl_(std::make_shared<impl>(std::move(strand), std::move(name), std::move(host), port, std::move(handlers),
                                   std::move(config)))
{
}

redis_link::~redis_link()
{
    stop();
}

void redis_link::start()
{
    asio::co_spawn(impl_->strand, impl_->run(), log_exceptions("the Redis link " + impl_->name));
}

void redis_link::stop()
{
    auto& self = *impl_;
    if (self.stopped)
        return;
    self.stopped = true;
    self.forget_unanswered();
    self.on = {};
    self.close_context();
    self.resolver.cancel();
    self.deadline.cancel();
    self.retry.cancel();
    self.wake.notify();
}

bool redis_link::connected() const noexcept
{
    return impl_->now == impl::state::up && impl_->context != nullptr;
}

bool redis_link::command(std::span<std::string_view const> args, reply_callback callback, void* privdata)
{
    auto& self = *impl_;
    if (!connected())
        return false;
    if (!self.owed.fits(resp_size(args))) {
        self.give_up(stall::too_many_unanswered, std::to_string(self.owed.unanswered_bytes()) +
                                                     " bytes unanswered, the limit is " +
                                                     std::to_string(self.config.liveness.max_unanswered_bytes));
        return false;
    }
    if (!self.send(args, callback, privdata))
        return false;
    if (self.owed.heartbeat_due(clock::now()))
        self.send_heartbeat();
    return true;
}

}  // namespace coropush::pubsub
