// The deadline heap (ordering, what is due) and the scheduler over it (one timer per shard, owners
// told on their executor, dead owners skipped, an earlier deadline re-arming the timer).
#include "net/deadline_heap.hpp"
#include "net/deadline_scheduler.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace coropush::net {
namespace {
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST(deadline_heap, hands_out_only_what_is_due_earliest_first)
{
    deadline_heap<std::string> heap;
    auto const t0 = clock::now();
    EXPECT_TRUE(heap.push(t0 + 30ms, "c"));
    EXPECT_TRUE(heap.push(t0 + 10ms, "a"));
    EXPECT_FALSE(heap.push(t0 + 20ms, "b"));  // not the earliest: the timer need not move
    EXPECT_FALSE(heap.push(t0 + 40ms, "d"));
    EXPECT_EQ(heap.next(), t0 + 10ms);

    std::vector<std::string> got;
    heap.pop_due(t0 + 25ms, [&](clock::time_point, std::string handle) { got.push_back(std::move(handle)); });
    EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(heap.next(), t0 + 30ms);
    EXPECT_EQ(heap.size(), 2u);

    got.clear();
    heap.pop_due(t0 + 40ms, [&](clock::time_point, std::string handle) { got.push_back(std::move(handle)); });
    EXPECT_EQ(got, (std::vector<std::string>{"c", "d"}));
    EXPECT_EQ(heap.next(), clock::time_point::max());
}

TEST(deadline_heap, keeps_equal_times_apart)
{
    deadline_heap<int> heap;
    auto const t = clock::now();
    heap.push(t, 1);
    heap.push(t, 2);
    int count = 0;
    heap.pop_due(t, [&](clock::time_point when, int) {
        EXPECT_EQ(when, t);
        ++count;
    });
    EXPECT_EQ(count, 2);
}

TEST(deadline_heap, sweeps_out_the_entries_asked_for_and_keeps_the_order)
{
    deadline_heap<int> heap;
    auto const t = clock::now();
    for (int i = 0; i < 10; ++i)
        heap.push(t + std::chrono::milliseconds(10 - i), i);  // pushed latest first
    heap.remove_if([](int i) { return i % 2 == 0; });
    EXPECT_EQ(heap.size(), 5u);
    std::vector<int> got;
    heap.pop_due(t + 1s, [&](clock::time_point, int i) { got.push_back(i); });
    EXPECT_EQ(got, (std::vector<int>{9, 7, 5, 3, 1}));  // earliest first: the last pushed
}

// An owner that records when it was told, and checks it is told on its own executor.
class recording_owner final : public deadline_owner {
public:
    recording_owner(boost::asio::io_context& io, std::vector<std::string>& log, std::string name)
        : executor_(io.get_executor()),
          log_(log),
          name_(std::move(name))
    {
    }
    boost::asio::any_io_executor const& get_executor() const noexcept override { return executor_; }
    void deadline_reached(clock::time_point) override { log_.push_back(name_); }

private:
    boost::asio::any_io_executor executor_;
    std::vector<std::string>& log_;
    std::string name_;
};

TEST(deadline_scheduler, tells_owners_in_time_order_and_skips_ended_ones)
{
    boost::asio::io_context io;
    deadline_scheduler scheduler({io.get_executor()});
    std::vector<std::string> log;
    auto first = std::make_shared<recording_owner>(io, log, "first");
    auto second = std::make_shared<recording_owner>(io, log, "second");
    auto ended = std::make_shared<recording_owner>(io, log, "ended");

    auto const past = clock::now() - 1s;  // already due: the test waits for no time to pass
    scheduler.at(past + 2ms, second, 0);
    scheduler.at(past + 1ms, first, 0);
    scheduler.at(past, ended, 0);
    ended.reset();  // the session ended before its deadline came

    io.run_for(10s);  // returns once nothing is left to do: every entry was due
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(deadline_scheduler, an_earlier_deadline_moves_the_timer_forward)
{
    boost::asio::io_context io;
    deadline_scheduler scheduler({io.get_executor()});
    std::vector<std::string> log;
    auto late = std::make_shared<recording_owner>(io, log, "late");
    auto early = std::make_shared<recording_owner>(io, log, "early");

    scheduler.at(clock::now() + 1h, late, 0);
    scheduler.at(clock::now() - 1ms, early, 0);
    // Without the re-arm, the timer would sleep for the hour and the early owner would wait too.
    while (log.empty() && io.run_one_for(10s) != 0) {
    }
    EXPECT_EQ(log, (std::vector<std::string>{"early"}));
    EXPECT_EQ(scheduler.pending(), 1u);  // the late entry waits on

    scheduler.stop();  // drops it and cancels the timer, so the io_context runs out of work
    EXPECT_EQ(scheduler.pending(), 0u);
    io.run_for(10s);
    EXPECT_EQ(log.size(), 1u);
}

// An owner that, when told, asks for a deadline that is already due for `next`.
class chaining_owner final : public deadline_owner {
public:
    chaining_owner(boost::asio::io_context& io, deadline_scheduler& scheduler, std::vector<std::string>& log,
                   std::shared_ptr<deadline_owner> next)
        : executor_(io.get_executor()),
          scheduler_(scheduler),
          log_(log),
          next_(std::move(next))
    {
    }
    boost::asio::any_io_executor const& get_executor() const noexcept override { return executor_; }
    void deadline_reached(clock::time_point) override
    {
        log_.emplace_back("chaining");
        scheduler_.at(clock::now() - 1ms, next_, 0);
    }

private:
    boost::asio::any_io_executor executor_;
    deadline_scheduler& scheduler_;
    std::vector<std::string>& log_;
    std::shared_ptr<deadline_owner> next_;
};

// Under a burst of deadlines, going back through the reactor for the entries that came due while
// the timer's handler ran would add the time of everything else ready to run: they are told in
// the same wake-up.
TEST(deadline_scheduler, a_deadline_that_comes_due_while_owners_are_told_is_told_in_the_same_wake_up)
{
    boost::asio::io_context io;
    deadline_scheduler scheduler({io.get_executor()});
    std::vector<std::string> log;
    auto next = std::make_shared<recording_owner>(io, log, "next");
    auto chaining = std::make_shared<chaining_owner>(io, scheduler, log, next);
    scheduler.at(clock::now() - 1ms, chaining, 0);

    while (log.empty() && io.run_one_for(10s) != 0) {
    }
    EXPECT_EQ(log, (std::vector<std::string>{"chaining", "next"})) << "one handler told both";
    EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(deadline_scheduler, spreads_owners_over_shards_by_key)
{
    boost::asio::io_context io;
    deadline_scheduler scheduler({io.get_executor(), io.get_executor()});
    std::vector<std::string> log;
    auto a = std::make_shared<recording_owner>(io, log, "a");
    auto b = std::make_shared<recording_owner>(io, log, "b");
    scheduler.at(clock::now() - 1ms, a, 0);
    scheduler.at(clock::now() - 1ms, b, 1);
    EXPECT_EQ(scheduler.pending(), 2u);
    io.run_for(10s);
    EXPECT_EQ(log.size(), 2u);
    scheduler.at(clock::now(), a, 0);
    scheduler.stop();
    scheduler.at(clock::now(), b, 1);  // ignored once stopped
    EXPECT_EQ(scheduler.pending(), 0u);
}

}  // namespace
}  // namespace coropush::net
