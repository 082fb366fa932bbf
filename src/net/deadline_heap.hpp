// The deadlines of many sessions in one min-heap: the sans-I/O half of deadline_scheduler, so its
// ordering rules are tested without a timer or a thread.
//
// An entry is only a time and a handle. Nothing is ever removed early: a session that no longer
// needs a deadline lets its entry fire and finds nothing to do, which is cheaper than finding the
// entry in the heap, and a session asks again only for a time earlier than the one it already
// holds (see connection::arm_deadline), so stale entries stay few.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

namespace coropush::net {

template <class Handle>
class deadline_heap {
public:
    using clock = std::chrono::steady_clock;

    // True when `when` is now the earliest deadline held (the timer must be moved earlier).
    bool push(clock::time_point when, Handle handle)
    {
        bool const earliest = entries_.empty() || when < entries_.front().when;
        entries_.push_back({when, std::move(handle)});
        std::push_heap(entries_.begin(), entries_.end(), later);
        return earliest;
    }

    // Hands every entry due at `now` (earliest first) to `out(when, handle)`.
    template <class Out>
    void pop_due(clock::time_point now, Out&& out)
    {
        while (!entries_.empty() && entries_.front().when <= now) {
            std::pop_heap(entries_.begin(), entries_.end(), later);
            auto due = std::move(entries_.back());
            entries_.pop_back();
            std::invoke(out, due.when, std::move(due.handle));
        }
        if (entries_.empty())
            entries_.shrink_to_fit();  // a burst of deadlines should not pin its storage
    }

    // The earliest deadline held, or time_point::max() when there is none.
    clock::time_point next() const noexcept
    {
        return entries_.empty() ? clock::time_point::max() : entries_.front().when;
    }

    // Drops the entries whose handle matches (for example, sessions that have ended).
    template <class Pred>
    void remove_if(Pred&& pred)
    {
        std::erase_if(entries_, [&](entry const& e) { return std::invoke(pred, e.handle); });
        std::make_heap(entries_.begin(), entries_.end(), later);
    }

    std::size_t size() const noexcept { return entries_.size(); }
    void clear() noexcept { entries_.clear(); }

private:
    struct entry {
        clock::time_point when;
        Handle handle;
    };
    // std::push_heap builds a max-heap: "less" is "later", so the front is the earliest.
    static bool later(entry const& a, entry const& b) noexcept { return a.when > b.when; }

    std::vector<entry> entries_;
};

}  // namespace coropush::net
