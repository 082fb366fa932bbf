// Redis pub/sub backplane: channel bookkeeping, forwarding and delivery, all on one strand.
#include "pubsub/redis_backplane.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "pubsub/redis_link.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/hiredis.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <random>
#include <unordered_map>

namespace coropush::pubsub {
namespace asio = boost::asio;

namespace {

std::string random_node_id()
{
    std::random_device entropy;
    std::uint64_t const id = (std::uint64_t{entropy()} << 32) ^ entropy();
    std::array<char, 17> text{};
    std::snprintf(text.data(), text.size(), "%016llx", static_cast<unsigned long long>(id));
    return {text.data(), 16};
}

std::string_view as_view(redisReply const* r)
{
    return r != nullptr && r->str != nullptr ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace

struct redis_backplane::state : std::enable_shared_from_this<state> {
    // A topic's Redis subscription. At most one SUBSCRIBE or UNSUBSCRIBE is in flight per
    // channel; when the wish changes meanwhile, the reply's handler sends the next one. (Sending
    // SUBSCRIBE while an UNSUBSCRIBE is pending would let the late unsubscribe reply remove
    // hiredis's callback for the new subscription.)
    struct channel {
        bool wanted = false;
        enum class phase { off, subscribing, on, unsubscribing } now = phase::off;
    };

    state(asio::io_context& io, redis_url const& where, redis_liveness_limits limits)
        : strand(asio::make_strand(io)),
          prefix(where.name_space + ":topic:"),
          job_prefix(where.name_space + ":job:"),
          control_channel(where.name_space + ":control:disconnect_user"),
          node(random_node_id()),
          address(where),
          liveness(limits)
    {
    }
    state(state const&) = delete;
    state& operator=(state const&) = delete;
    // Destroyed without stop() (the io_context gone first): the links, destroyed after this,
    // hand their pending PUBLISHes nullptr replies, which must then not be counted in `stats`.
    ~state() { stopped = true; }

    asio::strand<asio::io_context::executor_type> strand;
    std::string const prefix;           // a topic's channel: prefix + topic
    std::string const job_prefix;       // a job's channel: job_prefix + job id
    std::string const control_channel;  // every node's: "close this user's sessions", from a node
    std::string const node;
    redis_url const address;
    redis_liveness_limits const liveness;

    // Set by start(); touched only on the strand.
    metrics* stats = nullptr;
    remote_sink deliver;
    user_sink close_sessions;
    job_channel_events job_events;
    std::unique_ptr<redis_link> publisher;
    std::unique_ptr<redis_link> subscriber;
    std::unordered_map<std::string, channel> channels;  // by channel name
    bool stopped = false;

    // Read from any thread (healthy()).
    std::atomic<bool> publisher_up{false};
    std::atomic<bool> subscriber_up{false};

    void update_health() const
    {
        bool const up = publisher_up.load() && subscriber_up.load();
        stats->backplane_up.store(up ? 1 : 0, std::memory_order_relaxed);
    }

    // What both links report the same way: stalls and unanswered bytes, into the metrics.
    redis_link::events link_events(std::function<void(bool)> up, std::function<void(std::string const&)> down)
    {
        auto weak = weak_from_this();
        return {std::move(up), std::move(down),
                [weak](redis_link::stall why) {
                    if (auto self = weak.lock())
                        (why == redis_link::stall::no_reply ? self->stats->backplane_reply_timeouts
                                                            : self->stats->backplane_overloads)
                            .fetch_add(1, std::memory_order_relaxed);
                },
                [weak](std::int64_t change) {
                    if (auto self = weak.lock())
                        self->stats->backplane_unanswered_bytes.fetch_add(change, std::memory_order_relaxed);
                }};
    }

    void start()
    {
        auto weak = weak_from_this();
        auto on_up = [weak](std::atomic<bool> state::*flag, bool reconnected) {
            if (auto self = weak.lock()) {
                (self.get()->*flag).store(true);
                if (reconnected)
                    self->stats->backplane_reconnects.fetch_add(1, std::memory_order_relaxed);
                self->update_health();
            }
        };
        redis_link::settings publishing;
        publishing.liveness = liveness;
        publisher =
            std::make_unique<redis_link>(strand, "backplane publisher", address.host, address.port,
                                         link_events([on_up](bool again) { on_up(&state::publisher_up, again); },
                                                     [weak](std::string const&) {
                                                         if (auto self = weak.lock()) {
                                                             self->publisher_up.store(false);
                                                             self->update_health();
                                                         }
                                                     }),
                                         publishing);
        // The subscriber connection is in subscribed mode, where the heartbeat is a SUBSCRIBE to
        // a channel of this node's own (redis_link.hpp says why), outside the topics' prefix.
        redis_link::settings subscribing;
        subscribing.liveness = liveness;
        subscribing.heartbeat_channel = address.name_space + ":heartbeat:" + node;
        subscriber = std::make_unique<redis_link>(strand, "backplane subscriber", address.host, address.port,
                                                  link_events(
                                                      [weak](bool again) {
                                                          if (auto self = weak.lock())
                                                              self->subscriber_connected(again);
                                                      },
                                                      [weak](std::string const&) {
                                                          if (auto self = weak.lock())
                                                              self->subscriptions_lost();
                                                      }),
                                                  subscribing);
        publisher->start();
        subscriber->start();
    }

    void stop()
    {
        stopped = true;
        deliver = nullptr;
        close_sessions = nullptr;
        job_events = {};
        if (publisher)
            publisher->stop();
        if (subscriber)
            subscriber->stop();
        publisher_up = subscriber_up = false;
    }

    // The subscriber connection is (back) up: subscribe to the control channel and to every topic
    // with local subscribers. The connection counts as up once the control channel is confirmed
    // (handle()): until then this node would miss another node's disconnect_user.
    void subscriber_connected(bool reconnected)
    {
        if (reconnected)
            stats->backplane_reconnects.fetch_add(1, std::memory_order_relaxed);
        // Never unsubscribed, so no UNSUBSCRIBE of it is ever in flight beside this SUBSCRIBE. If
        // it cannot be sent, the link is going down and reconnects: this runs again then.
        (void)subscriber->command({"SUBSCRIBE", control_channel}, &state::on_subscriber_reply, this);
        resubscribe();
    }

    void resubscribe()
    {
        std::vector<std::string> names;
        names.reserve(channels.size());
        for (auto const& [name, ch] : channels)
            names.push_back(name);
        for (auto const& name : names)
            reconcile(name);
    }

    // The subscriber connection is gone, and with it every Redis subscription.
    void subscriptions_lost()
    {
        subscriber_up = false;
        update_health();
        stats->backplane_channels.store(0, std::memory_order_relaxed);
        for (auto it = channels.begin(); it != channels.end();) {
            it->second.now = channel::phase::off;
            if (!it->second.wanted)
                it = channels.erase(it);
            else
                ++it;
        }
        if (job_events.subscriptions_lost)
            job_events.subscriptions_lost();
    }

    // The hub (or the job store) wants `name` subscribed, or no longer.
    void want(std::string const& name, bool wanted)
    {
        auto const it = channels.find(name);
        if (it == channels.end() && !wanted)
            return;
        auto& ch = it == channels.end() ? channels[name] : it->second;
        ch.wanted = wanted;
        if (wanted && ch.now == channel::phase::on && name.starts_with(job_prefix) && job_events.subscribed)
            job_events.subscribed(name.substr(job_prefix.size()));  // already confirmed
        reconcile(name);
    }

    // Brings the Redis subscription of channel `name` one step closer to what is wanted.
    void reconcile(std::string const& name)
    {
        auto const it = channels.find(name);
        if (it == channels.end())
            return;
        auto& ch = it->second;
        using phase = channel::phase;
        if (!ch.wanted && ch.now == phase::off) {
            channels.erase(it);
            return;
        }
        if (stopped || !subscriber || !subscriber->connected())
            return;  // resubscribe() catches up when the connection is back
        if (ch.wanted && ch.now == phase::off) {
            if (subscriber->command({"SUBSCRIBE", name}, &state::on_subscriber_reply, this))
                ch.now = phase::subscribing;
        } else if (!ch.wanted && ch.now == phase::on) {
            if (subscriber->command({"UNSUBSCRIBE", name}, &state::on_subscriber_reply, this))
                ch.now = phase::unsubscribing;
        }
    }

    // Every reply on the subscriber connection: subscribe and unsubscribe confirmations, and
    // messages. `reply` is null when the connection went away first.
    static void on_subscriber_reply(redisAsyncContext*, void* reply, void* privdata)
    {
        auto* r = static_cast<redisReply*>(reply);
        if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 3)
            return;
        static_cast<state*>(privdata)->handle(as_view(r->element[0]), as_view(r->element[1]), r->element[2]);
    }

    void handle(std::string_view kind, std::string_view channel_name, redisReply const* third)
    {
        if (stopped)
            return;
        if (channel_name == control_channel) {
            control(kind, as_view(third));
            return;
        }
        bool const for_topic = channel_name.starts_with(prefix);
        bool const for_job = channel_name.starts_with(job_prefix);
        if (!for_topic && !for_job)
            return;
        std::string const name(channel_name);
        if (for_job) {
            std::string const job_id(channel_name.substr(job_prefix.size()));
            if (kind == "message") {
                if (job_events.message)
                    job_events.message(job_id, as_view(third));
                return;
            }
            if (!confirm(kind, name))
                return;
            if (kind == "subscribe" && channels.contains(name) && channels[name].wanted && job_events.subscribed)
                job_events.subscribed(job_id);
            reconcile(name);
            return;
        }
        std::string const topic(channel_name.substr(prefix.size()));
        if (kind == "message") {
            auto const payload = as_view(third);
            if (payload.size() > node.size() && payload.starts_with(node) && payload[node.size()] == '\n')
                return;  // our own, delivered locally when it was published
            auto const newline = payload.find('\n');
            if (newline == std::string_view::npos)
                return;  // not from a coropush node
            stats->backplane_received.fetch_add(1, std::memory_order_relaxed);
            if (deliver)
                deliver(topic, make_payload(std::string(payload.substr(newline + 1))));
            return;
        }
        if (!confirm(kind, name))
            return;
        stats->backplane_channels.fetch_add(kind == "subscribe" ? 1 : -1, std::memory_order_relaxed);
        reconcile(name);
    }

    // A SUBSCRIBE or UNSUBSCRIBE confirmation: the channel's new phase. False for anything else.
    bool confirm(std::string_view kind, std::string const& name)
    {
        auto const it = channels.find(name);
        if (it == channels.end())
            return false;
        if (kind == "subscribe")
            it->second.now = channel::phase::on;
        else if (kind == "unsubscribe")
            it->second.now = channel::phase::off;
        else
            return false;
        return true;
    }

    // A command for the job store on the publishing connection; its reply goes to `done`.
    void run(std::vector<std::string> const& args, std::function<void(redis_reply)> done) const
    {
        using reply_handler = std::function<void(redis_reply)>;
        auto callback = std::make_unique<reply_handler>(std::move(done));
        std::vector<std::string_view> const views(args.begin(), args.end());
        if (stopped || !publisher || !publisher->command(views, &state::on_command_reply, callback.get())) {
            (*callback)(redis_reply{});
            return;
        }
        (void)callback.release();  // hiredis calls on_command_reply exactly once: with the reply, or nullptr
    }

    static void on_command_reply(redisAsyncContext*, void* reply, void* privdata)
    {
        std::unique_ptr<std::function<void(redis_reply)>> const done(
            static_cast<std::function<void(redis_reply)>*>(privdata));
        (*done)(redis_reply::copy_of(static_cast<redisReply const*>(reply)));
    }

    // The control channel: its subscription confirmed (the subscriber connection is up), or a
    // request from a node, "NODE\nUSER".
    void control(std::string_view kind, std::string_view payload)
    {
        if (kind == "subscribe") {
            subscriber_up = true;
            update_health();
            return;
        }
        if (kind != "message")
            return;
        auto const newline = payload.find('\n');
        if (newline == std::string_view::npos || payload.substr(0, newline) == node)
            return;  // not from a coropush node, or ours: this node closed its sessions already
        std::string const user(payload.substr(newline + 1));
        log_info(0, "backplane: node ", payload.substr(0, newline), " disconnects a user everywhere");
        if (close_sessions)
            close_sessions(user);
    }

    void request_disconnect(std::string const& user)
    {
        if (stopped || !publisher)
            return;
        std::string value;
        value.reserve(node.size() + 1 + user.size());
        value.append(node).append(1, '\n').append(user);
        if (!publisher->command({"PUBLISH", control_channel, value}))
            log_warn(0, "backplane: redis unreachable, a user's sessions on other nodes stay open");
    }

    void forward(std::string const& topic, shared_payload const& envelope)
    {
        if (stopped || !publisher)
            return;
        std::string value;
        value.reserve(node.size() + 1 + envelope->size());
        value.append(node).append(1, '\n').append(*envelope);
        if (!publisher->command({"PUBLISH", prefix + topic, value}, &state::on_publish_reply, this))
            stats->backplane_publish_drops.fetch_add(1, std::memory_order_relaxed);
    }

    // A forwarded message counts as published once Redis answers its PUBLISH. One still
    // unanswered when the link gives up on Redis counts as dropped, like one the link refused:
    // the connection is reset, and only what Redis's socket already held may still be read when
    // it resumes. At stop, what is in flight is counted neither way.
    static void on_publish_reply(redisAsyncContext*, void* reply, void* privdata)
    {
        auto const& self = *static_cast<state const*>(privdata);
        auto const* r = static_cast<redisReply const*>(reply);
        if (r != nullptr && r->type != REDIS_REPLY_ERROR)
            self.stats->backplane_published.fetch_add(1, std::memory_order_relaxed);
        else if (!self.stopped)
            self.stats->backplane_publish_drops.fetch_add(1, std::memory_order_relaxed);
    }
};

redis_backplane::redis_backplane(asio::io_context& io, redis_url const& where, redis_liveness_limits liveness)
    : state_(std::make_shared<state>(io, where, liveness))
{
}

redis_backplane::~redis_backplane()
{
    // Normally shut down already. Otherwise stop on the strand (never beside a running handler);
    // if the io_context no longer runs, the links stop when the last handler holding them goes.
    asio::dispatch(state_->strand, [s = state_] { s->stop(); });
}

void redis_backplane::start(metrics& stats, remote_sink deliver)
{
    stats.backplane_up.store(0, std::memory_order_relaxed);
    log_info(0, "backplane: redis ", state_->address.host, ":", state_->address.port, " namespace ",
             state_->address.name_space, ", node ", state_->node);
    asio::dispatch(state_->strand, [s = state_, &stats, deliver = std::move(deliver)]() mutable {
        s->stats = &stats;
        s->deliver = std::move(deliver);
        s->start();
    });
}

void redis_backplane::subscribe(std::string const& topic)
{
    asio::post(state_->strand, [s = state_, topic] { s->want(s->prefix + topic, true); });
}

void redis_backplane::unsubscribe(std::string const& topic)
{
    asio::post(state_->strand, [s = state_, topic] { s->want(s->prefix + topic, false); });
}

void redis_backplane::publish(std::string const& topic, shared_payload const& envelope)
{
    asio::post(state_->strand, [s = state_, topic, envelope] { s->forward(topic, envelope); });
}

void redis_backplane::on_disconnect_user(user_sink close_sessions)
{
    asio::dispatch(state_->strand, [s = state_, close_sessions = std::move(close_sessions)]() mutable {
        s->close_sessions = std::move(close_sessions);
    });
}

void redis_backplane::disconnect_user(std::string const& user)
{
    asio::post(state_->strand, [s = state_, user] { s->request_disconnect(user); });
}

bool redis_backplane::healthy() const
{
    return state_->publisher_up.load() && state_->subscriber_up.load();
}

void redis_backplane::shutdown()
{
    asio::dispatch(state_->strand, [s = state_] { s->stop(); });
}

std::string const& redis_backplane::node_id() const noexcept
{
    return state_->node;
}

std::string const& redis_backplane::name_space() const noexcept
{
    return state_->address.name_space;
}

asio::any_io_executor redis_backplane::executor() const
{
    return state_->strand;
}

void redis_backplane::set_job_channel_events(job_channel_events events)
{
    state_->job_events = std::move(events);
}

void redis_backplane::listen_to_job(std::string const& job_id)
{
    state_->want(state_->job_prefix + job_id, true);
}

void redis_backplane::stop_listening_to_job(std::string const& job_id)
{
    state_->want(state_->job_prefix + job_id, false);
}

void redis_backplane::command(std::vector<std::string> const& args, std::function<void(redis_reply)> done)
{
    state_->run(args, std::move(done));
}

}  // namespace coropush::pubsub
