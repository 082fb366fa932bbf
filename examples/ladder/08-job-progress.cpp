// Step 8 of the ladder: a job that reports its progress to its watcher.
//
// The idea: work that takes a while runs beside the session as a coroutine of its own, and tells
// the session how far it has got. {"type":"job_start","id":5,"data":{"steps":4}} is answered with
// job_started (the job's id) at once; the job then pushes job_progress after each step and
// job_done at the end, while the session goes on answering other requests. The job holds its
// watcher weakly (a weak_ptr): it does not keep a session alive, and it stops at its next step
// once the watcher has gone or is closing (so a shutdown waits for one step at most).
//
// What changed from step 7: one more request, and the job coroutine. Everything else is step 7's, in
// parts/ (parts/shutdown.hpp, parts/topics.hpp).
//
// The last step. The full versions of these ideas are in src/:
//   src/net/websocket_session_impl.hpp the session: handshake, reader, on-demand writer, close (1-3, 6)
//   src/net/connection.hpp, .cpp      a session's queue, its deadlines, keep-alive, close (3-6)
//   src/net/outbound_queue.hpp        the queue bounded, so a slow reader cannot grow memory
//   src/net/deadline_scheduler.hpp    one timer per io thread for every session's deadlines (4, 5)
//   src/server/server.cpp, src/app/main.cpp   shutdown and signals, several io threads (6)
//   src/topics/topic_hub.hpp          topics and fan-out across threads, and nodes (7)
//   src/jobs/job_manager.hpp, src/jobs/job.hpp, src/jobs/job_kinds.cpp
//                                     jobs that outlive their connection and can be resumed (8)
//   src/protocol/messages.hpp         a struct per message type instead of strings
//
//   build/default/examples/ladder/ladder-08-job-progress 0     (0: any free port; Ctrl-C stops it)
#include "ladder.hpp"
#include "parts/reader.hpp"
#include "parts/shutdown.hpp"
#include "parts/topics.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <string>

namespace {
using namespace ladder::names;  // asio, beast, websocket, tcp, nothrow, and literals such as 1s
namespace graceful = ladder::graceful;
using graceful::send;
using graceful::server_state;
using graceful::session_state;

constexpr auto job_step_time = 100ms;
constexpr std::uint64_t max_job_steps = 100;

// What the sessions share besides the server's set of them: step 7's topics, and a count that
// numbers the jobs. main owns it, and it outlives io.run().
struct app_state {
    ladder::topic_registry topics;
    std::uint64_t jobs_started = 0;
};

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

// Answers a job_start: job_started at once, then the job runs beside the session.
void start_job(std::shared_ptr<session_state> const& s, std::uint64_t& jobs_started, ladder::request const& request)
{
    auto const steps = ladder::number_field(request, "steps", 5);
    if (steps == 0 || steps > max_job_steps) {
        send(s, ladder::make_error(request, "steps must be from 1 to 100"));
        return;
    }
    auto const job = std::to_string(++jobs_started);
    send(s, ladder::make_message("job_started", request.id, {{"job", job}, {"steps", steps}}));
    asio::co_spawn(s->ws.get_executor(), run_job(s, job, steps), coropush::log_exceptions("job " + job));
}

asio::awaitable<void> session(tcp::socket socket, std::uint64_t id, server_state& server, app_state& app)
{
    auto const s = std::make_shared<session_state>(std::move(socket), id);
    bool const joined = co_await graceful::join(s, server);  // as in step 6
    if (!joined)
        co_return;

    // The reader: step 7's requests, and now job_start.
    auto const on_request = [s, &app](std::optional<ladder::request> const& request) {
        graceful::heard(*s);
        if (request && request->type == "job_start")
            start_job(s, app.jobs_started, *request);
        else
            ladder::answer(s, app.topics, request);
    };
    co_await ladder::read_requests(*s, on_request);  // named first, as in step 2
    ladder::leave_topics(s, app.topics);
    graceful::leave(s, server);
}

}  // namespace

int main(int argc, char** argv)
{
    app_state app;
    return graceful::serve_until_signal(argc, argv, [&app](tcp::socket socket, std::uint64_t id, server_state& server) {
        return session(std::move(socket), id, server, app);
    });
}
