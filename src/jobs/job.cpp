// A job's events, history, watchers and cancellation; a backend job's reports and silence.
#include "jobs/job.hpp"

#include "core/log.hpp"
#include "protocol/errc.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace coropush::jobs {
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

job::job(asio::any_io_executor strand, job_wire const& wire, std::string id, std::uint64_t coalesce_key,
         std::uint64_t owner, std::string user, job_spec spec, std::size_t history_limit)
    : strand_(std::move(strand)),
      wire_(wire),
      id_(std::move(id)),
      coalesce_key_(coalesce_key),
      owner_(owner),
      user_(std::move(user)),
      spec_(std::move(spec)),
      history_limit_(std::max<std::size_t>(history_limit, 1)),
      wake_(strand_)
{
}

job::job(asio::any_io_executor strand, job_wire const& wire, std::string id, std::uint64_t coalesce_key,
         std::string user, job_spec spec, std::size_t history_limit, std::string topic, topic_publisher publish)
    : job(std::move(strand), wire, std::move(id), coalesce_key, 0, std::move(user), std::move(spec), history_limit)
{
    backend_ = true;
    topic_ = std::move(topic);
    publish_ = std::move(publish);
}

// Written once (job_wire): every watcher's queue gets the same buffer.
void job::emit(job_event const& what)
{
    auto const envelope = wire_.event(what);
    history_.push_back({last_seq_, envelope});
    history_bytes_ += envelope->size();
    // At most history_limit_ events, and at most history_byte_budget bytes of them: a backend's
    // events carry data of any size up to the API's body limit. The latest is always kept.
    while (history_.size() > history_limit_ || (history_bytes_ > history_byte_budget && history_.size() > 1)) {
        history_bytes_ -= history_.front().envelope->size();
        history_.pop_front();
    }
    // All of a job's events share one coalesce key: a client too slow to read every update gets
    // the newest one instead of a queue of stale ones (and is not closed for it).
    for (auto const& watcher : watchers_)
        watcher->push(outbound_message{envelope, false, coalesce_key_});
    if (!topic_.empty() && publish_)
        publish_(topic_,
                 wire_.topic_message(topic_, std::visit([](auto const& e) -> job_topic_event { return e; }, what)));
}

void job::progress(std::uint32_t percent, std::string message)
{
    ++last_seq_;
    percent_ = std::max(percent_, percent);
    emit(protocol::job_progress{id_, last_seq_, percent, std::move(message), std::nullopt});
}

asio::awaitable<bool> job::sleep(std::chrono::steady_clock::duration d)
{
    if (cancel_requested_)
        co_return false;
    co_await wake_.wait_for(d);  // cut short by cancel()
    co_return !cancel_requested_;
}

void job::finish(job_outcome const& outcome)
{
    ++last_seq_;
    if (outcome.succeeded)
        emit(protocol::job_done{id_, last_seq_, outcome.text});
    else
        emit(protocol::job_failed{id_, last_seq_, outcome.text});
    outcome_ = outcome;
    auto const now = std::chrono::steady_clock::now().time_since_epoch().count();
    finished_at_.store(std::max<std::chrono::steady_clock::rep>(now, 1), std::memory_order_release);
}

void job::announce() const
{
    if (!topic_.empty() && publish_)
        publish_(topic_, wire_.topic_message(topic_, protocol::job_started{id_, "backend", std::nullopt, spec_.label}));
}

backend_job_status job::snapshot() const
{
    auto state = job_state::running;
    if (outcome_)
        state = outcome_->succeeded ? job_state::done : job_state::failed;
    return {id_, spec_.label, user_, topic_, state, percent_, last_seq_, cancel_requested_};
}

std::variant<backend_job_status, job_refusal> job::report(backend_report update)
{
    if (finished())
        return job_refusal{protocol::errc::job_finished, "job " + id_ + " has already ended"};
    last_word_ = steady::now();
    switch (update.what) {
    case backend_report::kind::progress:
        if (update.percent < percent_)
            return job_refusal{protocol::errc::bad_data, "percent must not decrease: it is " +
                                                             std::to_string(percent_) + ", not " +
                                                             std::to_string(update.percent)};
        ++last_seq_;
        percent_ = update.percent;
        emit(protocol::job_progress{id_, last_seq_, update.percent, std::move(update.text), std::move(update.data)});
        break;
    case backend_report::kind::done:
    case backend_report::kind::failed:
        finish({update.what == backend_report::kind::done, std::move(update.text)});
        wake_.notify();  // await_backend() returns
        break;
    }
    return snapshot();
}

backend_job_status job::status()
{
    if (!finished())
        last_word_ = steady::now();
    return snapshot();
}

asio::awaitable<job_outcome> job::await_backend(steady::duration silence)
{
    while (!finished() && !interrupted_) {
        auto const deadline = last_word_ + silence;
        if (steady::now() >= deadline) {
            abandoned_ = true;
            finish({false, "abandoned: no word from the backend for " + millis(silence)});
            break;
        }
        co_await wake_.wait_until(deadline);  // cut short by the final report
    }
    if (!finished())
        finish({false, "the server is shutting down"});
    co_return *outcome_;
}

void job::add_watcher(std::shared_ptr<push_target> watcher)
{
    unwatch(watcher->id());
    watchers_.push_back(std::move(watcher));
}

// Whether every event after `after_seq` is still in the history.
bool job::kept_after(std::uint64_t after_seq) const noexcept
{
    auto const first_kept = history_.empty() ? last_seq_ + 1 : history_.front().seq;
    return after_seq >= first_kept - 1;  // (first_kept >= 1; after_seq + 1 could wrap)
}

void job::watch(std::shared_ptr<push_target> watcher, std::uint64_t after_seq, protocol::request_id id)
{
    // Everything goes through the watcher's push from this strand, in this order, so the client
    // sees: job_resumed, the events it missed, then the live stream, with no gap or duplicate.
    watcher->push(text_message(wire_.resumed(protocol::job_resumed{id_, last_seq_, kept_after(after_seq)}, id)));
    watch_from(std::move(watcher), after_seq);
}

void job::watch_from(std::shared_ptr<push_target> watcher, std::uint64_t after_seq)
{
    if (kept_after(after_seq)) {
        for (auto const& e : history_)
            if (e.seq > after_seq)
                watcher->push(outbound_message{e.envelope, false, coalesce_key_});
    } else if (!history_.empty()) {
        watcher->push(outbound_message{history_.back().envelope, false, coalesce_key_});
    }
    if (!finished())
        add_watcher(std::move(watcher));
}

void job::unwatch(std::uint64_t watcher_id)
{
    std::erase_if(watchers_, [&](auto const& w) { return w->id() == watcher_id; });
}

void job::cancel(std::shared_ptr<push_target> const& requester, protocol::request_id id)
{
    if (finished()) {
        requester->push(
            text_message(wire_.error(id, protocol::errc::job_finished, "job " + id_ + " has already ended")));
        return;
    }
    requester->push(text_message(wire_.cancelling(protocol::job_cancelling{id_}, id)));
    cancel_requested_ = true;
    wake_.notify();
}

void job::interrupt()
{
    interrupted_ = true;
    cancel_requested_ = true;
    wake_.notify();
}

asio::awaitable<void> job::retain(std::chrono::steady_clock::duration d)
{
    watchers_.clear();  // the final event is out; watchers that resume later get it from history
    if (interrupted_)
        co_return;  // shutting down: no point keeping it
    co_await wake_.wait_for(d);
}

}  // namespace coropush::jobs
