// Step 8 of the ladder: a job that reports its progress to its watcher.
//
// The idea: work that takes a while runs beside the session as a coroutine of its own, and tells
// the session how far it has got. {"type":"job_start","id":5,"data":{"steps":4}} is answered with
// job_started (the job's id) at once; the job then pushes job_progress after each step and
// job_done at the end, while the session goes on answering other requests. The job holds its
// watcher weakly (a weak_ptr): it does not keep a session alive, and it stops at its next step
// once the watcher has gone or is closing (so a shutdown waits for one step at most).
//
// What changed from step 7: one more request, and the job coroutine.
//
// The last step. The full versions of these ideas are in src/:
//   src/net/websocket_session.cpp     the session: handshake, reader, on-demand writer, close (1-3, 6)
//   src/net/connection.hpp, .cpp      a session's queue, its deadlines, keep-alive, close (3-6)
//   src/net/outbound_queue.hpp        the queue bounded, so a slow reader cannot grow memory
//   src/net/deadline_scheduler.hpp    one timer per io thread for every session's deadlines (4, 5)
//   src/server/server.cpp, src/app/main.cpp   shutdown and signals, several io threads (6)
//   src/pubsub/topic_hub.hpp          topics and fan-out across threads, and nodes (7)
//   src/jobs/job_manager.hpp, src/jobs/job.hpp, src/jobs/job_kinds.cpp
//                                     jobs that outlive their connection and can be resumed (8)
//   src/protocol/messages.hpp         a struct per message type instead of strings
//
//   build/default/examples/ladder/ladder-08-job-progress 0     (0: any free port; Ctrl-C stops it)
#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <utility>

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using ladder::nothrow;
using ladder::tcp;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr auto notice_delay = 1s;
constexpr auto handshake_timeout = 1s;
constexpr auto ping_interval = 1s;  // of silence before a ping
constexpr auto ping_timeout = 1s;   // for the answer
constexpr auto close_timeout = 2s;  // to write what is queued, then for the client's close frame
constexpr auto job_step_time = 100ms;
constexpr std::uint64_t max_job_steps = 100;

// What the session's coroutines share. Each of them holds a shared_ptr to it, so it lives as long
// as the last of them, and none can touch a stream that is gone.
struct session_state {
    session_state(tcp::socket socket, std::uint64_t session_id)
        : ws(std::move(socket)),
          deadline_timer(ws.get_executor()),
          id(session_id)
    {
    }

    websocket::stream<tcp::socket> ws;
    std::deque<ladder::outbound_message> outbox;  // written in order, by the writer only
    bool writer_running = false;
    bool ping_requested = false;      // the writer sends a ping before the next message
    websocket::close_reason closing;  // set by close(): the writer sends it after the queue
    bool close_sent = false;
    std::set<std::string> topics;  // subscribed to, to leave them when the session ends
    // The deadlines: pushes and when they are due; when the next ping is due; when the client is
    // dropped unless it speaks (the handshake's limit, then a ping's); and the watchdog's timer.
    std::multimap<clock::time_point, ladder::outbound_message> scheduled;
    clock::time_point ping_at = clock::time_point::max();
    clock::time_point drop_at = clock::time_point::max();
    asio::steady_timer deadline_timer;
    std::uint64_t const id;
    bool open = true;  // false once the reader has ended: nothing more is written
};

// What the sessions share: main owns it, and it outlives io.run(), so they refer to it freely.
struct server_state {
    std::set<std::shared_ptr<session_state>> sessions;                       // every open session
    std::map<std::string, std::set<std::shared_ptr<session_state>>> topics;  // name -> subscribers
    bool shutting_down = false;
    std::uint64_t jobs_started = 0;  // numbers the jobs
};

asio::awaitable<void> writer(std::shared_ptr<session_state> s);

// Starts the writer, unless it is running already (then it will get to what was queued).
void start_writer(std::shared_ptr<session_state> const& s)
{
    if (s->writer_running)
        return;
    s->writer_running = true;
    asio::co_spawn(s->ws.get_executor(), writer(s), coropush::log_exceptions("writer"));
}

// Queues a message for the writer.
void send(std::shared_ptr<session_state> const& s, ladder::outbound_message message)
{
    if (!s->open || s->closing)
        return;  // nothing goes after the close frame
    s->outbox.push_back(std::move(message));
    start_writer(s);
}

// Puts a message on the schedule; the watchdog sends it when it is due.
void schedule(std::shared_ptr<session_state> const& s, clock::time_point when, ladder::outbound_message message)
{
    s->scheduled.emplace(when, std::move(message));
    s->deadline_timer.cancel();  // wakes the watchdog: this may come before what it sleeps until
}

// The connection is dropped: its socket closed, so the pending handshake or read fails and the
// session ends as if the client had gone.
void drop(session_state& s, std::string const& why)
{
    ladder::say("session " + std::to_string(s.id) + ": dropped: " + why);
    beast::error_code ignored;
    s.ws.next_layer().close(ignored);
}

// The client said something (a message, a pong): it is there. The next ping is due after
// ping_interval of silence, and no ping waits for an answer.
void heard(session_state& s)
{
    if (s.closing)
        return;  // the close deadline stands
    s.ping_at = clock::now() + ping_interval;
    s.drop_at = clock::time_point::max();
}

// Ends the session politely: what is queued is written, then the close frame; the client answers
// with its own, which ends the reader's read. One that does not is dropped at the close deadline.
void close(std::shared_ptr<session_state> const& s, websocket::close_code code, std::string_view reason)
{
    if (!s->open || s->closing)
        return;
    s->closing = websocket::close_reason(code, reason);
    s->ping_at = clock::time_point::max();
    s->drop_at = clock::now() + close_timeout;
    s->deadline_timer.cancel();  // wakes the watchdog: a new deadline
    start_writer(s);
}

// The session is over: nothing more is written, and the watchdog returns.
void end(session_state& s)
{
    s.open = false;  // a writer still running sees it after its write and returns
    s.deadline_timer.cancel();
}

clock::time_point next_deadline(session_state const& s)
{
    auto next = std::min(s.ping_at, s.drop_at);
    if (!s.scheduled.empty())
        next = std::min(next, s.scheduled.begin()->first);
    return next;
}

// Keeps the session's deadlines with one timer: sleeps until the earliest, does what is due.
asio::awaitable<void> watchdog(std::shared_ptr<session_state> s)
{
    while (s->open) {
        s->deadline_timer.expires_at(next_deadline(*s));
        // Ends at the deadline, or early when the timer is cancelled (an earlier deadline was set,
        // or the session ended): either way, look at what is due now.
        co_await s->deadline_timer.async_wait(nothrow);
        auto const now = clock::now();
        while (s->open && !s->scheduled.empty() && s->scheduled.begin()->first <= now) {
            send(s, s->scheduled.begin()->second);
            s->scheduled.erase(s->scheduled.begin());
        }
        if (s->open && now >= s->drop_at) {
            drop(*s, "no word from the client in time");
            break;
        }
        if (s->open && now >= s->ping_at) {
            // Silence: ask. The answer (or any message) calls heard(), which lifts drop_at again.
            ladder::say("session " + std::to_string(s->id) + ": ping");
            s->ping_requested = true;
            start_writer(s);
            s->ping_at = clock::time_point::max();
            s->drop_at = now + ping_timeout;
        }
    }
}

void subscribe(std::shared_ptr<session_state> const& s, server_state& server, ladder::request const& request)
{
    auto const topic = ladder::string_field(request, "topic");
    if (topic.empty()) {
        send(s, ladder::make_error(request, "a subscribe needs a topic"));
        return;
    }
    server.topics[topic].insert(s);
    s->topics.insert(topic);
    send(s, ladder::make_message("subscribed", request.id, {{"topic", topic}}));
}

// Queues the message on every subscriber's outbox. One thread runs every session here, so this
// can touch another session's queue directly; the real server, on several threads, posts to each
// subscriber's strand instead (src/pubsub/topic_hub.cpp).
void publish(std::shared_ptr<session_state> const& s, server_state& server, ladder::request const& request)
{
    auto const topic = ladder::string_field(request, "topic");
    if (topic.empty()) {
        send(s, ladder::make_error(request, "a publish needs a topic"));
        return;
    }
    auto const message =
        ladder::make_message("message", {}, {{"topic", topic}, {"text", ladder::string_field(request, "text")}});
    std::size_t delivered = 0;
    if (auto const found = server.topics.find(topic); found != server.topics.end()) {
        for (auto const& subscriber : found->second)
            send(subscriber, message);  // the same buffer in every queue
        delivered = found->second.size();
    }
    send(s, ladder::make_message("published", request.id, {{"topic", topic}, {"delivered", delivered}}));
}

// The session has ended: it is no one's subscriber any more.
void leave_topics(std::shared_ptr<session_state> const& s, server_state& server)
{
    for (auto const& topic : s->topics) {
        auto const found = server.topics.find(topic);
        found->second.erase(s);
        if (found->second.empty())
            server.topics.erase(found);
    }
}

// A job of `steps` steps. After each one it reports to its watcher, which it holds weakly.
asio::awaitable<void> run_job(std::weak_ptr<session_state> watcher, std::string job, std::uint64_t steps)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (std::uint64_t step = 1; step <= steps; ++step) {
        // One step of the work. A real job would compute here, or await a backend.
        timer.expires_after(job_step_time);
        co_await timer.async_wait(nothrow);
        auto const s = watcher.lock();
        if (!s || !s->open || s->closing) {
            ladder::say("job " + job + ": stopped, its watcher has gone");
            co_return;
        }
        send(s,
             ladder::make_message("job_progress", {}, {{"job", job}, {"step", step}, {"percent", step * 100 / steps}}));
    }
    if (auto const s = watcher.lock())
        send(s, ladder::make_message("job_done", {}, {{"job", job}}));
    ladder::say("job " + job + ": done");
}

void start_job(std::shared_ptr<session_state> const& s, server_state& server, ladder::request const& request)
{
    auto const steps = ladder::number_field(request, "steps", 5);
    if (steps == 0 || steps > max_job_steps) {
        send(s, ladder::make_error(request, "steps must be from 1 to 100"));
        return;
    }
    auto const job = std::to_string(++server.jobs_started);
    send(s, ladder::make_message("job_started", request.id, {{"job", job}, {"steps", steps}}));
    asio::co_spawn(s->ws.get_executor(), run_job(s, job, steps), coropush::log_exceptions("job " + job));
}

// Awaits each message and answers it, never waiting for a write. Ends when the connection does.
asio::awaitable<void> reader(std::shared_ptr<session_state> s, server_state& server)
{
    beast::flat_buffer buffer;
    for (;;) {
        // Waits for the next whole message. An error is the end of the session: the client
        // closed (Beast has answered its close frame) or the connection is gone.
        auto [read_error, read] = co_await s->ws.async_read(buffer, nothrow);
        if (read_error)
            break;
        heard(*s);
        auto const request = ladder::take_request(buffer);
        if (!request) {
            send(s, ladder::make_error(request, "not a message"));
        } else if (request->type == "hello") {
            send(s, ladder::make_message("welcome", request->id, {{"text", "welcome!"}}));
            schedule(s, clock::now() + notice_delay,
                     ladder::make_message("notice", {}, {{"text", "one second after your hello"}}));
        } else if (request->type == "subscribe") {
            subscribe(s, server, *request);
        } else if (request->type == "publish") {
            publish(s, server, *request);
        } else if (request->type == "job_start") {
            start_job(s, server, *request);
        } else {
            send(s, ladder::make_error(request, "unknown type"));
        }
    }
    end(*s);
}

// The only coroutine that writes to the stream: what is in the outbox, in order, one at a time.
// It returns when the outbox is empty; the next send() starts it again.
asio::awaitable<void> writer(std::shared_ptr<session_state> s)
{
    while (s->open && (s->ping_requested || !s->outbox.empty())) {
        if (std::exchange(s->ping_requested, false)) {
            auto [ping_error] = co_await s->ws.async_ping({}, nothrow);
            if (ping_error)
                break;
            continue;
        }
        auto const message = s->outbox.front();  // this copy keeps it alive while it is written
        s->outbox.pop_front();
        // A failed write means the connection is gone; the reader learns it too and ends.
        auto [write_error, written] = co_await s->ws.async_write(asio::buffer(*message), nothrow);
        if (write_error)
            break;
    }
    // The queue is drained: now the close frame, if close() asked for one. Beast then waits for
    // the client's close frame in the reader's pending read, which ends with error::closed.
    if (s->open && s->closing && !s->close_sent) {
        s->close_sent = true;
        co_await s->ws.async_close(s->closing, nothrow);
    }
    s->writer_running = false;
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id, server_state& server)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    // The watchdog runs beside the session from the start: the handshake has a deadline too.
    s->drop_at = clock::now() + handshake_timeout;
    asio::co_spawn(s->ws.get_executor(), watchdog(s), coropush::log_exceptions("watchdog"));

    // Waits for the client's upgrade request and answers it (101 Switching Protocols).
    auto [handshake_error] = co_await s->ws.async_accept(nothrow);
    if (handshake_error) {
        end(*s);
        co_return;
    }
    ladder::say("session " + std::to_string(id) + ": opened");
    heard(*s);
    // Called by Beast inside the pending read when a control frame arrives. It refers to the state
    // (which owns the stream, which owns the callback) without owning it: no cycle.
    s->ws.control_callback([&state = *s](websocket::frame_type kind, beast::string_view) {
        if (kind != websocket::frame_type::pong)
            return;
        ladder::say("session " + std::to_string(state.id) + ": pong");
        heard(state);
    });
    server.sessions.insert(s);
    if (server.shutting_down)  // the signal came during our handshake
        close(s, websocket::close_code::going_away, "server shutting down");

    // The reader, and beside it the watchdog and, whenever send() starts one, the writer. The
    // session object lives on until the last of them has ended.
    co_await reader(s, server);
    leave_topics(s, server);
    server.sessions.erase(s);
    ladder::say("session " + std::to_string(id) + ": closed");
}

// Waits for SIGINT or SIGTERM, then shuts down: no new connections, every session closed.
asio::awaitable<void> shut_down_on_signal(tcp::acceptor& acceptor, server_state& server)
{
    asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
    auto [ec, signal_number] = co_await signals.async_wait(nothrow);
    if (ec)
        co_return;
    ladder::say("signal " + std::to_string(signal_number) + ": shutting down");
    server.shutting_down = true;
    acceptor.close();                            // the accept loop's pending accept fails, and it returns
    auto const open_sessions = server.sessions;  // a copy: a session leaves the set when it ends
    for (auto const& s : open_sessions)
        close(s, websocket::close_code::going_away, "server shutting down");
}

}  // namespace

int main(int argc, char** argv)
{
    asio::io_context io;
    auto acceptor = ladder::listen(io.get_executor(), ladder::port_from_command_line(argc, argv));
    server_state server;
    auto start_session = [&server](tcp::socket socket, std::uint64_t id) {
        return session(std::move(socket), id, server);
    };
    asio::co_spawn(io, ladder::accept_loop(acceptor, start_session), coropush::log_exceptions("accept loop"));
    asio::co_spawn(io, shut_down_on_signal(acceptor, server), coropush::log_exceptions("shutdown"));
    // Returns when there is no work left: the signal has come, the accept loop has returned and
    // the last session has ended.
    io.run();
    ladder::say("shut down cleanly");
    return 0;
}
