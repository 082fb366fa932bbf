// Backend jobs in Redis: the script, the API's calls, and the browsers' watching on this node.
#include "jobs/redis/redis_job_store.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "jobs/job.hpp"
#include "protocol/errc.hpp"
#include "pubsub/redis_backplane.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <deque>
#include <unordered_map>

namespace coropush::jobstore {
// What jobs/ declares and this store implements over Redis, with the backplane's connections.
using jobs::backend_job_spec;
using jobs::backend_job_status;
using jobs::backend_report;
using jobs::job_limits;
using jobs::job_refusal;
using jobs::job_state;
using jobs::topic_publisher;
using pubsub::redis_backplane;
using pubsub::redis_reply;
namespace asio = boost::asio;

namespace {

// One script for every operation, so that each is atomic and they share their rules.
// KEYS: the job's hash, its stream, the jobs' index. ARGV: op, id, channel, history (events),
// silence ms, retention ms, history bytes, the abandoned event's envelope before and after its
// seq, then the op's own.
// Every op but create answers {status, state, percent, seq, cancel, user, topic, label,
// abandoned seq (0: none), extra, events}.
constexpr char job_script[] = R"lua(
local state, events, all = KEYS[1], KEYS[2], KEYS[3]
local op, id, channel = ARGV[1], ARGV[2], ARGV[3]
local history, silence, retention = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local history_bytes = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The job's keys, and its entry in the index, live `ms` more.
local function keep(ms)
  redis.call('PEXPIRE', state, ms)
  redis.call('PEXPIRE', events, ms)
  redis.call('ZADD', all, now + ms, id)
end

-- One event: the next seq, kept in the stream and published to the nodes watching the job. The
-- stream keeps the last `history` events and at most `history_bytes` of them, the latest whatever
-- its size, as a node keeps them in memory (job.cpp); the hash's `bytes` counts what it holds.
local function append(before, after)
  local seq = redis.call('HINCRBY', state, 'seq', 1)
  local envelope = before .. seq .. after
  redis.call('XADD', events, '0-' .. seq, 'e', envelope)
  local bytes = redis.call('HINCRBY', state, 'bytes', #envelope)
  local count = redis.call('XLEN', events)
  while count > history or (bytes > history_bytes and count > 1) do
    local oldest = redis.call('XRANGE', events, '-', '+', 'COUNT', 1)[1]
    redis.call('XDEL', events, oldest[1])
    bytes = redis.call('HINCRBY', state, 'bytes', -#oldest[2][2])
    count = count - 1
  end
  redis.call('PUBLISH', channel, seq .. '\n' .. envelope)
  return seq
end

local function finish(ending, before, after)
  local seq = append(before, after)
  redis.call('HSET', state, 'state', ending)
  keep(retention)
  return seq
end

if op == 'create' then
  redis.call('ZREMRANGEBYSCORE', all, '-inf', now)
  if redis.call('ZCARD', all) >= tonumber(ARGV[13]) then return {'full'} end
  if redis.call('EXISTS', state) == 1 then return {'exists'} end
  redis.call('HSET', state, 'label', ARGV[10], 'user', ARGV[11], 'topic', ARGV[12], 'state', 'running',
             'percent', 0, 'seq', 0, 'cancel', 0, 'deadline', now + silence)
  keep(silence + retention)
  return {'ok'}
end

local job = redis.call('HMGET', state, 'state', 'percent', 'seq', 'cancel', 'user', 'topic', 'label', 'deadline')
if not job[1] then return {'unknown'} end
-- A running job whose backend has been silent past its deadline fails now: here, whoever comes
-- first; the node that created it comes at the deadline.
local abandoned = 0
if job[1] == 'running' and now >= tonumber(job[8]) then
  abandoned = finish('failed', ARGV[8], ARGV[9])
  job[1], job[3] = 'failed', tostring(abandoned)
end
local function reply(status, extra, list)
  return {status, job[1], tonumber(job[2]), tonumber(job[3]), tonumber(job[4]), job[5], job[6], job[7],
          abandoned, extra or 0, list or {}}
end

if op == 'report' then
  if job[1] ~= 'running' then return reply('finished') end
  if ARGV[10] ~= 'progress' then
    job[3], job[1] = tostring(finish(ARGV[10], ARGV[12], ARGV[13])), ARGV[10]
    return reply('ok')
  end
  if tonumber(ARGV[11]) < tonumber(job[2]) then return reply('decrease') end
  job[3], job[2] = tostring(append(ARGV[12], ARGV[13])), ARGV[11]
  redis.call('HSET', state, 'percent', ARGV[11], 'deadline', now + silence)
  keep(silence + retention)
  return reply('ok')
end
if op == 'status' or op == 'settle' then
  if op == 'status' and job[1] == 'running' then
    redis.call('HSET', state, 'deadline', now + silence)
    keep(silence + retention)
    job[8] = tostring(now + silence)
  end
  return reply('ok', job[1] == 'running' and tonumber(job[8]) - now or 0)
end
-- A browser's request: a job of a user is that user's only (ARGV[11] '1': tokens are in use).
if ARGV[11] == '1' and job[5] ~= '' and job[5] ~= ARGV[10] then return reply('forbidden') end
if op == 'cancel' then
  if job[1] ~= 'running' then return reply('finished') end
  redis.call('HSET', state, 'cancel', 1)
  job[4] = '1'
  return reply('ok')
end
if op == 'resume' then
  local after, last = tonumber(ARGV[12]), tonumber(job[3])
  local first = redis.call('XRANGE', events, '-', '+', 'COUNT', 1)
  local first_kept = last + 1
  if #first > 0 then first_kept = tonumber(string.match(first[1][1], '%d+$')) end
  -- Past the last event: nothing to replay (and an ID built from a large number would be written
  -- with an exponent, which XRANGE refuses).
  if after >= last then return reply('ok', 1, {}) end
  if after + 1 >= first_kept then
    return reply('ok', 1, redis.call('XRANGE', events, '0-' .. (after + 1), '+'))
  end
  return reply('ok', 0, redis.call('XREVRANGE', events, '+', '-', 'COUNT', 1))
end
return redis.error_reply('unknown op ' .. op)
)lua";

job_state state_named(std::string_view name)
{
    if (name == "done")
        return job_state::done;
    if (name == "failed")
        return job_state::failed;
    return job_state::running;
}

// A stream entry {"0-SEQ", ["e", envelope]}: its seq and envelope.
std::pair<std::uint64_t, std::string> read_event(redis_reply const& entry)
{
    auto const& id = entry.at(0).text;
    std::uint64_t seq = 0;
    auto const dash = id.find('-');
    if (dash != std::string::npos)
        std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
    return {seq, entry.at(1).at(1).text};
}

job_refusal out_of_reach(redis_reply const& reply)
{
    if (reply.what == redis_reply::kind::error)
        log_warn(0, "redis job store: ", reply.text);
    return {protocol::errc::backplane_unavailable, "the backplane is unavailable: the job's state is out of reach"};
}

std::string abandoned_reason(std::chrono::steady_clock::duration silence)
{
    return "abandoned: no word from the backend for " + millis(silence);
}

}  // namespace

struct redis_job_store::state : std::enable_shared_from_this<state> {
    state(redis_backplane& backplane, jobs::job_wire const& job_wire, job_limits job_limits, metrics& counters,
          topic_publisher to_topic)
        : link(backplane),
          wire(job_wire),
          strand(backplane.executor()),
          limits(job_limits),
          stats(counters),
          publish(std::move(to_topic)),
          name_space(backplane.name_space())
    {
    }

    // The script's answer, read.
    struct script_answer {
        std::string status;  // ok, unknown, finished, decrease, forbidden, full, exists
        job_state state = job_state::running;
        std::uint32_t percent = 0;
        std::uint64_t seq = 0;
        bool cancel_requested = false;
        std::string user;
        std::string topic;
        std::string label;
        std::uint64_t abandoned_seq = 0;
        std::int64_t extra = 0;  // settle/status: ms to the deadline; resume: 1 when complete
        std::vector<redis_reply> events;
    };

    static script_answer read_answer(redis_reply reply)
    {
        script_answer a;
        a.status = reply.at(0).text;
        if (reply.elements.size() < 11)
            return a;
        a.state = state_named(reply.at(1).text);
        a.percent = static_cast<std::uint32_t>(reply.at(2).number());
        a.seq = static_cast<std::uint64_t>(reply.at(3).number());
        a.cancel_requested = reply.at(4).number() != 0;
        a.user = std::move(reply.elements[5].text);
        a.topic = std::move(reply.elements[6].text);
        a.label = std::move(reply.elements[7].text);
        a.abandoned_seq = static_cast<std::uint64_t>(reply.at(8).number());
        a.extra = reply.at(9).number();
        a.events = std::move(reply.elements[10].elements);
        return a;
    }

    redis_backplane& link;
    jobs::job_wire const& wire;
    asio::any_io_executor strand;  // the backplane's: every member below is touched there only
    job_limits const limits;
    metrics& stats;
    topic_publisher const publish;
    std::string const name_space;
    bool stopped = false;

    // A browser connection watching a job from this node.
    struct watcher {
        std::shared_ptr<push_target> target;
        std::string user;
        std::uint64_t seen = 0;  // the last seq it was sent
    };
    // A resume waiting for the job's channel (catch_up: after a lost subscription, not the
    // browser's request, so no job_resumed is sent).
    struct pending {
        watcher who;
        protocol::request_id id;
        bool catch_up = false;
    };
    struct watched_job {
        std::uint64_t coalesce_key = 0;
        bool confirmed = false;
        std::vector<watcher> live;
        std::vector<pending> waiting;
        std::size_t resuming = 0;  // resume scripts in flight
        // Live events heard while a resume is in flight: its answer may come after them.
        std::deque<std::pair<std::uint64_t, shared_payload>> recent;
    };
    std::unordered_map<std::string, watched_job> watched;
    // Distinct from the job manager's keys (which count from 1): one connection may watch both.
    std::uint64_t next_coalesce_key = std::uint64_t{1} << 63;
    std::unordered_map<std::string, std::shared_ptr<wake_signal>> silences;  // jobs created here

    // --- Redis ---------------------------------------------------------------------------------

    // EVALs the script for `op` on job `id`, from any executor; completes there.
    asio::awaitable<redis_reply> eval(std::string const& id, std::string op, std::vector<std::string> more)
    {
        auto const key = name_space + ":job:" + id;
        auto const abandoned = wire.event_around_seq(protocol::job_failed{id, 0, abandoned_reason(limits.retention)});
        std::vector<std::string> args{"EVAL",
                                      job_script,
                                      "3",
                                      key,
                                      key + ":events",
                                      name_space + ":jobs",
                                      std::move(op),
                                      id,
                                      key,
                                      std::to_string(limits.history),
                                      std::to_string(milliseconds(limits.retention)),
                                      std::to_string(milliseconds(limits.retention)),
                                      std::to_string(jobs::job::history_byte_budget),
                                      abandoned.before,
                                      abandoned.after};
        for (auto& a : more)
            args.push_back(std::move(a));
        auto answered = asio::async_initiate<decltype(asio::use_awaitable), void(redis_reply)>(
            [self = shared_from_this()](auto handler, std::vector<std::string> command) {
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                asio::dispatch(self->strand, [self, shared, command = std::move(command)] {
                    self->link.command(command, [shared](redis_reply reply) {
                        auto const to = asio::get_associated_executor(*shared);
                        asio::dispatch(to, [shared, reply = std::move(reply)]() mutable {
                            std::move (*shared)(std::move(reply));
                        });
                    });
                });
            },
            asio::use_awaitable, std::move(args));
        co_return co_await std::move(answered);
    }

    static long long milliseconds(std::chrono::steady_clock::duration d)
    {
        return std::max<long long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    }

    // After a script failed a silent backend's job: its topic hears of it, and it is counted.
    void abandoned(std::string const& id, script_answer const& a) const
    {
        if (a.abandoned_seq == 0)
            return;
        stats.backend_jobs_abandoned.fetch_add(1, std::memory_order_relaxed);
        log_info(0, "job ", id, " failed: ", abandoned_reason(limits.retention));
        if (!a.topic.empty() && publish)
            publish(a.topic, wire.topic_message(a.topic, protocol::job_failed{id, a.abandoned_seq,
                                                                              abandoned_reason(limits.retention)}));
    }

    // A backend call's answer, read: a silent backend's failure told, an unknown job refused.
    std::variant<script_answer, job_refusal> backend_answer(std::string const& id, redis_reply reply) const
    {
        if (reply.what != redis_reply::kind::array)
            return out_of_reach(reply);
        auto a = read_answer(std::move(reply));
        abandoned(id, a);
        if (a.status == "unknown")
            return job_refusal{protocol::errc::unknown_job, jobs::no_job_message(id)};
        return a;
    }

    static backend_job_status status_of(std::string const& id, script_answer const& a)
    {
        return {id, a.label, a.user, a.topic, a.state, a.percent, a.seq, a.cancel_requested};
    }

    // --- The node that created a job fails it on time when its backend goes silent -------------

    asio::awaitable<void> watch_silence(std::string id)
    {
        auto self = shared_from_this();
        auto wake = std::make_shared<wake_signal>(strand);  // stop() cuts a wait short
        silences[id] = wake;
        std::chrono::steady_clock::duration wait = limits.retention;
        while (!stopped) {
            co_await wake->wait_for(wait);
            if (stopped)
                break;
            auto settling = eval(id, "settle", {});
            auto reply = co_await std::move(settling);
            if (reply.what == redis_reply::kind::none || reply.what == redis_reply::kind::error) {
                wait = std::min<std::chrono::steady_clock::duration>(limits.retention, std::chrono::seconds(1));
                continue;  // Redis is out of reach: ask again soon (a lazy check may come first)
            }
            auto const a = state::read_answer(std::move(reply));
            abandoned(id, a);
            if (a.status != "ok" || a.state != job_state::running)
                break;
            wait = std::chrono::milliseconds(std::max<std::int64_t>(a.extra, 1));
        }
        silences.erase(id);
    }

    // --- Browsers watching jobs from this node ---------------------------------------------------

    void push_error(push_target& to, protocol::request_id id, protocol::errc code, std::string const& message) const
    {
        stats.error_envelope(code);
        to.push(text_message(wire.error(id, code, message)));
    }

    void start_watching(std::string const& id, pending p)
    {
        auto [it, fresh] = watched.try_emplace(id);
        if (fresh)
            it->second.coalesce_key = next_coalesce_key++;
        it->second.waiting.push_back(std::move(p));
        if (fresh)
            link.listen_to_job(id);  // subscribed() follows (at once, if the channel is already on)
        else if (it->second.confirmed)
            resume_waiting(id);
    }

    // The job's channel is subscribed: the waiting resumes can read the stream now.
    void subscribed(std::string const& id)
    {
        auto const it = watched.find(id);
        if (it == watched.end())
            return;
        it->second.confirmed = true;
        resume_waiting(id);
    }

    void resume_waiting(std::string const& id)
    {
        auto& job = watched.at(id);
        for (auto& p : std::exchange(job.waiting, {})) {
            ++job.resuming;
            asio::co_spawn(strand, run_resume(id, std::move(p)), log_exceptions("a job resume"));
        }
    }

    asio::awaitable<void> run_resume(std::string id, pending p)
    {
        auto self = shared_from_this();
        auto const owners = limits.owners_only ? "1" : "0";
        auto resuming = eval(id, "resume", {p.who.user, owners, std::to_string(p.who.seen)});
        auto reply = co_await std::move(resuming);
        // A catch-up after a reconnect may find the subscriber connection back before the
        // publishing one: it tries again shortly, while the watcher still waits for events.
        while (p.catch_up && !stopped && watched.contains(id) &&
               (reply.what == redis_reply::kind::none || reply.what == redis_reply::kind::error)) {
            asio::steady_timer pause(strand, std::chrono::milliseconds(50));
            co_await pause.async_wait(nothrow);
            auto again = eval(id, "resume", {p.who.user, owners, std::to_string(p.who.seen)});
            reply = co_await std::move(again);
        }
        auto const it = watched.find(id);
        if (stopped || it == watched.end())
            co_return;
        auto& job = it->second;
        --job.resuming;
        if (reply.what == redis_reply::kind::none || reply.what == redis_reply::kind::error) {
            out_of_reach(reply);
            push_error(*p.who.target, p.id, protocol::errc::backplane_unavailable,
                       "the backplane is unavailable: job " + id + " cannot be watched now");
        } else {
            auto a = read_answer(std::move(reply));
            abandoned(id, a);
            if (a.status == "unknown") {
                push_error(*p.who.target, p.id, protocol::errc::unknown_job,
                           p.catch_up ? "job " + id + " is gone: Redis no longer knows it" : jobs::no_job_message(id));
            } else if (a.status == "forbidden") {
                stats.forbidden_operations.fetch_add(1, std::memory_order_relaxed);
                push_error(*p.who.target, p.id, protocol::errc::forbidden, "job " + id + " belongs to another user");
            } else {
                deliver_replay(id, job, std::move(p), a);
            }
        }
        if (job.resuming == 0)
            job.recent.clear();
        forget_if_unwatched(id);
    }

    // job_resumed, the stream's events after what the watcher saw, the live ones heard meanwhile;
    // then it is live (unless the job has ended).
    void deliver_replay(std::string const& id, watched_job& job, pending p, script_answer const& a)
    {
        auto& who = p.who;
        if (!p.catch_up)
            who.target->push(text_message(wire.resumed(protocol::job_resumed{id, a.seq, a.extra == 1}, p.id)));
        for (auto const& entry : a.events) {
            auto [seq, envelope] = read_event(entry);
            if (seq > who.seen) {
                who.target->push(outbound_message{make_payload(std::move(envelope)), false, job.coalesce_key});
                who.seen = std::max(who.seen, seq);
            }
        }
        for (auto const& [seq, envelope] : job.recent) {
            if (seq > who.seen) {
                who.target->push(outbound_message{envelope, false, job.coalesce_key});
                who.seen = seq;
            }
        }
        if (a.state != job_state::running)
            return;
        std::erase_if(job.live, [&](auto const& w) { return w.target->id() == who.target->id(); });
        job.live.push_back(std::move(who));
    }

    // An event published by a script: "SEQ\nENVELOPE".
    void heard(std::string const& id, std::string_view payload)
    {
        auto const it = watched.find(id);
        auto const newline = payload.find('\n');
        if (it == watched.end() || newline == std::string_view::npos)
            return;
        std::uint64_t seq = 0;
        std::from_chars(payload.data(), payload.data() + newline, seq);
        auto const envelope = make_payload(std::string(payload.substr(newline + 1)));
        auto& job = it->second;
        if (job.resuming > 0) {
            job.recent.emplace_back(seq, envelope);
            if (job.recent.size() > limits.history)
                job.recent.pop_front();
        }
        // A watcher whose connection has ended (its unwatch may have passed its resume) goes.
        std::erase_if(job.live, [&](watcher& w) {
            if (seq <= w.seen)
                return false;
            w.seen = seq;
            return !w.target->push(outbound_message{envelope, false, job.coalesce_key});
        });
        bool const final_event = !envelope->starts_with(R"({"type":"job_progress")");
        if (final_event) {
            job.live.clear();  // nothing follows a final event
            forget_if_unwatched(id);
        }
    }

    // The subscriber connection went down, and the job channels with it: every live watcher is
    // caught up from its last seq once the channel is back.
    void subscriptions_lost()
    {
        for (auto& [id, job] : watched) {
            job.confirmed = false;
            for (auto& w : job.live)
                job.waiting.push_back(pending{std::move(w), std::nullopt, true});
            job.live.clear();
        }
    }

    void unwatch(std::string const& id, std::uint64_t watcher_id)
    {
        auto const it = watched.find(id);
        if (it == watched.end())
            return;
        std::erase_if(it->second.live, [&](auto const& w) { return w.target->id() == watcher_id; });
        std::erase_if(it->second.waiting, [&](auto const& p) { return p.who.target->id() == watcher_id; });
        forget_if_unwatched(id);
    }

    void forget_if_unwatched(std::string const& id)
    {
        auto const it = watched.find(id);
        if (it == watched.end() || !it->second.live.empty() || !it->second.waiting.empty() || it->second.resuming > 0)
            return;
        watched.erase(it);
        link.stop_listening_to_job(id);
    }

    asio::awaitable<void> run_cancel(std::string id, std::string user, std::shared_ptr<push_target> requester,
                                     protocol::request_id request)
    {
        auto self = shared_from_this();
        auto cancelling = eval(id, "cancel", {std::move(user), limits.owners_only ? "1" : "0"});
        auto reply = co_await std::move(cancelling);
        if (reply.what == redis_reply::kind::none || reply.what == redis_reply::kind::error) {
            out_of_reach(reply);
            push_error(*requester, request, protocol::errc::backplane_unavailable,
                       "the backplane is unavailable: job " + id + " cannot be cancelled now");
            co_return;
        }
        auto const a = state::read_answer(std::move(reply));
        abandoned(id, a);
        if (a.status == "ok")
            requester->push(text_message(wire.cancelling(protocol::job_cancelling{id}, request)));
        else if (a.status == "unknown")
            push_error(*requester, request, protocol::errc::unknown_job, jobs::no_job_message(id));
        else if (a.status == "forbidden")
            push_error(*requester, request, protocol::errc::forbidden, "job " + id + " belongs to another user");
        else
            push_error(*requester, request, protocol::errc::job_finished, "job " + id + " has already ended");
    }

    void stop()
    {
        stopped = true;
        watched.clear();
        for (auto const& [id, wake] : silences)
            wake->notify();
    }
};

redis_job_store::redis_job_store(redis_backplane& link, jobs::job_wire const& wire, job_limits limits, metrics& stats,
                                 topic_publisher publish)
    : state_(std::make_shared<state>(link, wire, limits, stats, std::move(publish)))
{
    std::weak_ptr<state> weak = state_;
    link.set_job_channel_events({[weak](std::string const& id, std::string_view payload) {
                                     if (auto s = weak.lock())
                                         s->heard(id, payload);
                                 },
                                 [weak](std::string const& id) {
                                     if (auto s = weak.lock())
                                         s->subscribed(id);
                                 },
                                 [weak] {
                                     if (auto s = weak.lock())
                                         s->subscriptions_lost();
                                 }});
}

redis_job_store::~redis_job_store() = default;

void redis_job_store::shutdown()
{
    asio::dispatch(state_->strand, [s = state_] { s->stop(); });
}

asio::awaitable<std::variant<std::string, job_refusal>> redis_job_store::create(backend_job_spec spec)
{
    auto s = state_;
    auto const id = jobs::new_job_id();
    auto creating = s->eval(id, "create", {spec.label, spec.user, spec.topic, std::to_string(s->limits.total)});
    auto reply = co_await std::move(creating);
    if (reply.what != redis_reply::kind::array)
        co_return out_of_reach(reply);
    auto const a = state::read_answer(std::move(reply));
    if (a.status == "full")
        co_return job_refusal{protocol::errc::too_many_jobs, "the servers are keeping as many jobs as they can"};
    if (a.status != "ok")
        co_return job_refusal{protocol::errc::backplane_unavailable, "the job could not be created: " + a.status};
    s->stats.jobs_started.fetch_add(1, std::memory_order_relaxed);
    s->stats.backend_jobs_created.fetch_add(1, std::memory_order_relaxed);
    if (!spec.topic.empty() && s->publish)
        s->publish(spec.topic,
                   s->wire.topic_message(spec.topic, protocol::job_started{id, "backend", std::nullopt, spec.label}));
    asio::co_spawn(s->strand, s->watch_silence(id), log_exceptions("job " + id));
    co_return id;
}

asio::awaitable<std::variant<backend_job_status, job_refusal>> redis_job_store::report(std::string job_id,
                                                                                       backend_report update)
{
    auto s = state_;
    using kind = backend_report::kind;
    jobs::job_event event;
    if (update.what == kind::progress)
        event = protocol::job_progress{job_id, 0, update.percent, std::move(update.text), std::move(update.data)};
    else if (update.what == kind::done)
        event = protocol::job_done{job_id, 0, std::move(update.text)};
    else
        event = protocol::job_failed{job_id, 0, std::move(update.text)};
    auto parts = s->wire.event_around_seq(event);
    auto const name = update.what == kind::progress ? "progress" : update.what == kind::done ? "done" : "failed";
    // Called in its own statement, then awaited: GCC 12 may destroy the temporaries of a
    // braced argument list inside a co_await full-expression twice.
    auto reporting = s->eval(job_id, "report",
                             {name, std::to_string(update.percent), std::move(parts.before), std::move(parts.after)});
    auto reply = co_await std::move(reporting);
    auto answer = s->backend_answer(job_id, std::move(reply));
    if (auto* refusal = std::get_if<job_refusal>(&answer))
        co_return std::move(*refusal);
    auto const& a = std::get<state::script_answer>(answer);
    if (a.status == "finished")
        co_return job_refusal{protocol::errc::job_finished, "job " + job_id + " has already ended"};
    if (a.status == "decrease")
        co_return job_refusal{protocol::errc::bad_data, "percent must not decrease: it is " +
                                                            std::to_string(a.percent) + ", not " +
                                                            std::to_string(update.percent)};
    if (!a.topic.empty() && s->publish)
        std::visit(
            [&](auto& e) {
                e.seq = a.seq;
                s->publish(a.topic, s->wire.topic_message(a.topic, e));
            },
            event);
    co_return state::status_of(job_id, a);
}

asio::awaitable<std::variant<backend_job_status, job_refusal>> redis_job_store::status(std::string job_id)
{
    auto s = state_;
    auto reading = s->eval(job_id, "status", {});
    auto reply = co_await std::move(reading);
    auto answer = s->backend_answer(job_id, std::move(reply));
    if (auto* refusal = std::get_if<job_refusal>(&answer))
        co_return std::move(*refusal);
    co_return state::status_of(job_id, std::get<state::script_answer>(answer));
}

void redis_job_store::resume(std::string job_id, std::string user, std::uint64_t after_seq,
                             std::shared_ptr<push_target> watcher, std::optional<std::uint64_t> request_id)
{
    asio::dispatch(state_->strand, [s = state_, id = std::move(job_id), user = std::move(user), after_seq,
                                    watcher = std::move(watcher), request_id]() mutable {
        if (s->stopped)
            return;
        if (!jobs::well_formed_job_id(id)) {
            s->push_error(*watcher, request_id, protocol::errc::unknown_job, jobs::no_job_message(id));
            return;
        }
        if (!s->link.healthy()) {
            s->push_error(*watcher, request_id, protocol::errc::backplane_unavailable,
                          "the backplane is unavailable: job " + id + " cannot be watched now");
            return;
        }
        s->start_watching(id, {{std::move(watcher), std::move(user), after_seq}, request_id, false});
    });
}

void redis_job_store::cancel(std::string job_id, std::string user, std::shared_ptr<push_target> requester,
                             std::optional<std::uint64_t> request_id)
{
    asio::dispatch(state_->strand, [s = state_, id = std::move(job_id), user = std::move(user),
                                    requester = std::move(requester), request_id]() mutable {
        if (s->stopped)
            return;
        if (!jobs::well_formed_job_id(id)) {
            s->push_error(*requester, request_id, protocol::errc::unknown_job, jobs::no_job_message(id));
            return;
        }
        asio::co_spawn(s->strand, s->run_cancel(std::move(id), std::move(user), std::move(requester), request_id),
                       log_exceptions("a job cancel"));
    });
}

void redis_job_store::unwatch(std::string job_id, std::uint64_t watcher_id)
{
    asio::dispatch(state_->strand, [s = state_, id = std::move(job_id), watcher_id] { s->unwatch(id, watcher_id); });
}

}  // namespace coropush::jobstore
