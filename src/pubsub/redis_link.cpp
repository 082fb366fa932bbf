// A hiredis async context on Asio: the event hooks, and the connect/reconnect coroutine.
#include "pubsub/redis_link.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <random>

namespace coropush {
namespace asio = boost::asio;

namespace {
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

struct redis_link::impl : std::enable_shared_from_this<impl> {
    enum class state { down, connecting, up };

    impl(asio::any_io_executor ex, std::string link_name, std::string host_name, std::uint16_t port_number,
         events handlers, timing times)
        : strand(std::move(ex)),
          name(std::move(link_name)),
          host(std::move(host_name)),
          port(port_number),
          on(std::move(handlers)),
          time(times),
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
    timing time;

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
    asio::steady_timer wake;  // cancelled whenever `now` changes: the run loop's wake-up call
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
        wake.cancel();
    }

    // Waits until become() is called (or stop()).
    asio::awaitable<void> state_change()
    {
        wake.expires_at(asio::steady_timer::time_point::max());
        co_await wake.async_wait(nothrow);
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
        redisAsyncSetConnectCallback(c, [](redisAsyncContext const* ac, int status) {
            auto& self = of(ac);
            if (status == REDIS_OK)
                self.become(state::up);
            else
                self.become(state::down, ac->errstr);  // hiredis frees the context after this
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
        auto backoff = time.first_retry;
        while (!stopped) {
            // 1. Resolve the host name with Asio (hiredis would block in getaddrinfo).
            auto [ec, found] = co_await resolver.async_resolve(host, std::to_string(port), nothrow);
            if (stopped)
                break;
            if (ec || found.empty()) {
                why_down = "cannot resolve " + host + ": " + ec.message();
            } else if (open(found.begin()->endpoint())) {
                // 2. Wait for the connect to finish, within the connect timeout.
                deadline.expires_after(time.connect_timeout);
                deadline.async_wait([self = shared_from_this(), gen = generation](boost::system::error_code e) {
                    if (!e && gen == self->generation && self->now == state::connecting) {
                        self->close_context();
                        self->become(state::down, "connect timeout");
                    }
                });
                while (now == state::connecting && !stopped)
                    co_await state_change();
                deadline.cancel();

                // 3. Up: serve until the connection is lost.
                if (now == state::up && !stopped) {
                    log_info(0, name, ": connected to redis ", host, ":", port);
                    backoff = time.first_retry;
                    if (on.up)
                        on.up(was_up);
                    was_up = true;
                    while (now == state::up && !stopped)
                        co_await state_change();
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
            backoff = std::min(backoff * 2, time.max_retry);
            retry.expires_after(pause);
            co_await retry.async_wait(nothrow);
        }
    }
};

redis_link::redis_link(asio::any_io_executor strand, std::string name, std::string host, std::uint16_t port,
                       events handlers, timing times)
    : impl_(
          std::make_shared<impl>(std::move(strand), std::move(name), std::move(host), port, std::move(handlers), times))
{
}

redis_link::~redis_link()
{
    stop();
}

void redis_link::start()
{
    asio::co_spawn(impl_->strand, impl_->run(), asio::detached);
}

void redis_link::stop()
{
    auto& self = *impl_;
    if (self.stopped)
        return;
    self.stopped = true;
    self.on = {};
    self.close_context();
    self.resolver.cancel();
    self.deadline.cancel();
    self.retry.cancel();
    self.wake.cancel();
}

bool redis_link::connected() const noexcept
{
    return impl_->now == impl::state::up && impl_->context != nullptr;
}

bool redis_link::command(std::initializer_list<std::string_view> args, reply_callback callback, void* privdata)
{
    if (!connected())
        return false;
    constexpr std::size_t most = 4;
    std::array<char const*, most> argv{};
    std::array<std::size_t, most> lengths{};
    auto const count = std::min(args.size(), most);
    std::size_t i = 0;
    for (auto const& a : args) {
        if (i == count)
            break;
        argv[i] = a.data();
        lengths[i] = a.size();
        ++i;
    }
    return redisAsyncCommandArgv(impl_->context, callback, privdata, static_cast<int>(count), argv.data(),
                                 lengths.data()) == REDIS_OK;
}

}  // namespace coropush
