// The shards of the deadline scheduler: a heap under a mutex and a timer on the shard's strand.
#include "net/deadline_scheduler.hpp"

#include "net/deadline_heap.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <mutex>

namespace coropush::net {
namespace asio = boost::asio;

namespace {
constexpr std::size_t min_compact_size = 1024;
// How long one wake-up of a shard's timer may go on telling owners whose time came while it ran,
// before the rest of the io thread's work gets its turn (see fire()).
constexpr std::chrono::milliseconds catch_up{20};
}  // namespace

// The timer is touched only on its executor; the heap and `armed` only under the mutex. Every
// change of the timer's expiry is made from the value of `armed` read under the mutex, on the
// timer's executor, so the last one made is always the earliest entry's time.
struct deadline_scheduler::shard : std::enable_shared_from_this<shard> {
    explicit shard(asio::any_io_executor const& executor)
        : timer(executor)
    {
    }

    // On the timer's executor: set the timer for the earliest entry. Setting it cancels the wait
    // in progress, whose handler then sees operation_aborted and leaves the new wait alone.
    void arm()
    {
        clock::time_point target;
        {
            std::lock_guard lock(mutex);
            target = armed;
        }
        timer.expires_at(target);
        if (target == clock::time_point::max())
            return;
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec)
                self->fire();
        });
    }

    // On the timer's executor: tell the owners whose time has come, then wait for the next one.
    // Entries that come due meanwhile are told in the same wake-up, for up to `catch_up` from
    // its start: under a burst of deadlines (the seed's 10 000 notices, due within the 150 ms over
    // which their welcomes went out) each wait through the reactor would add the time of
    // everything else ready to run (the reads of hundreds of connections), and the last notices
    // of the burst would leave tens of milliseconds late.
    void fire()
    {
        auto const started = clock::now();
        std::vector<std::pair<clock::time_point, std::shared_ptr<deadline_owner>>> due;
        for (;;) {
            {
                std::lock_guard lock(mutex);
                heap.pop_due(clock::now(), [&](clock::time_point when, std::weak_ptr<deadline_owner> const& owner) {
                    if (auto alive = owner.lock())
                        due.emplace_back(when, std::move(alive));
                });
                armed = heap.next();
            }
            if (due.empty())
                break;
            for (auto& [when, owner] : due) {
                auto const& executor = owner->get_executor();
                asio::dispatch(executor, [owner = std::move(owner), when = when] { owner->deadline_reached(when); });
            }
            due.clear();
            if (clock::now() - started >= catch_up)
                break;
        }
        arm();
    }

    mutable std::mutex mutex;
    deadline_heap<std::weak_ptr<deadline_owner>> heap;   // guarded by mutex
    clock::time_point armed = clock::time_point::max();  // guarded by mutex: the time the timer is (to be) set for
    std::size_t compact_at = min_compact_size;           // guarded by mutex
    bool stopped = false;                                // guarded by mutex
    asio::steady_timer timer;
};

deadline_scheduler::deadline_scheduler(std::vector<asio::any_io_executor> const& executors)
{
    shards_.reserve(executors.size());
    for (auto const& executor : executors)
        shards_.push_back(std::make_shared<shard>(executor));
}

deadline_scheduler::~deadline_scheduler()
{
    stop();
}

void deadline_scheduler::at(clock::time_point when, std::weak_ptr<deadline_owner> owner, std::size_t key)
{
    auto const& s = shards_[key % shards_.size()];
    {
        std::lock_guard lock(s->mutex);
        if (s->stopped)
            return;
        s->heap.push(when, std::move(owner));
        if (s->heap.size() >= s->compact_at) {
            // Sessions that ended leave their entries behind until they come; sweep them out once
            // the heap has doubled, so it stays proportional to the sessions alive.
            s->heap.remove_if([](std::weak_ptr<deadline_owner> const& o) { return o.expired(); });
            s->compact_at = std::max(min_compact_size, 2 * s->heap.size());
        }
        if (when >= s->armed)
            return;  // the timer already fires no later than this
        s->armed = when;
    }
    asio::post(s->timer.get_executor(), [s] { s->arm(); });
}

void deadline_scheduler::stop()
{
    for (auto const& s : shards_) {
        {
            std::lock_guard lock(s->mutex);
            if (s->stopped)
                continue;
            s->stopped = true;
            s->heap.clear();
            s->armed = clock::time_point::max();
        }
        asio::post(s->timer.get_executor(), [s] { s->arm(); });  // expires_at(max) cancels the wait
    }
}

std::size_t deadline_scheduler::pending() const
{
    std::size_t n = 0;
    for (auto const& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->heap.size();
    }
    return n;
}

}  // namespace coropush::net
