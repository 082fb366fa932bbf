// Jobs run by a backend, kept by this node's job manager: what a browser's resume and cancel do to
// them, ownership, the silence after which the server fails them, and the job limit. Driven on an
// io_context the test runs until the event it waits for has happened (no sleeps).
#include "jobs/feature/json_job_wire.hpp"
#include "jobs/job.hpp"
#include "jobs/job_manager.hpp"
#include "protocol/codec.hpp"
#include "protocol/errc.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <vector>

namespace coropush {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// A browser's connection, as a job sees it: what is pushed to it, as parsed envelopes.
struct job_watcher_stub : push_target {
    explicit job_watcher_stub(std::uint64_t connection_id)
        : connection(connection_id)
    {
    }
    std::uint64_t id() const noexcept override { return connection; }
    bool push(outbound_message frame) override
    {
        received.push_back(*protocol::parse_envelope(*frame.payload));
        return true;
    }
    void close_websocket(std::uint16_t, std::string) override {}

    std::uint64_t connection;
    std::vector<protocol::envelope> received;
};

class backend_jobs_test : public ::testing::Test {
public:
    backend_jobs_test() = default;
    ~backend_jobs_test() override
    {
        jobs->shutdown();
        io.restart();
        io.run();
    }
    backend_jobs_test(backend_jobs_test const&) = delete;
    backend_jobs_test& operator=(backend_jobs_test const&) = delete;

protected:
    void make(jobs::job_limits limits)
    {
        jobs->shutdown();
        jobs = std::make_shared<jobs::job_manager>(io.get_executor(), job_wire, limits, stats);
    }

    // Runs `work` to its end on the io_context and returns what it returns.
    template <class T>
    T await_on_io(asio::awaitable<T> work)
    {
        std::optional<T> result;
        asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
            if (e)
                std::rethrow_exception(e);
            result = std::move(value);
        });
        run_until([&] { return result.has_value(); });
        return std::move(*result);
    }

    // Runs the io_context until `done` holds; throws if it runs out of work first.
    void run_until(std::function<bool()> const& done)
    {
        io.restart();
        while (!done())
            if (io.run_one() == 0)
                throw std::runtime_error("nothing left to run, and still waiting");
    }

    std::string create(jobs::backend_job_spec spec = {"label", "", ""})
    {
        auto created = await_on_io(jobs->create(std::move(spec)));
        return std::get<std::string>(created);
    }

    jobs::backend_job_status report(std::string const& id, jobs::backend_report update)
    {
        auto answer = await_on_io(jobs->report(id, std::move(update)));
        return std::get<jobs::backend_job_status>(answer);
    }

    asio::io_context io;
    metrics stats;
    jobs_feature::json_job_wire job_wire;
    std::shared_ptr<jobs::job_manager> jobs =
        std::make_shared<jobs::job_manager>(io.get_executor(), job_wire, jobs::job_limits{}, stats);
};

TEST_F(backend_jobs_test, a_browser_resumes_gap_free_and_its_cancel_reaches_the_backend)
{
    auto const id = create();
    report(id, {jobs::backend_report::kind::progress, 10, "one", std::nullopt});
    report(id, {jobs::backend_report::kind::progress, 20, "two", boost::json::parse(R"({"rows":2})")});

    auto browser = std::make_shared<job_watcher_stub>(7);
    EXPECT_FALSE(jobs->resume(id, "", 1, browser, 3));
    run_until([&] { return browser->received.size() == 2; });
    EXPECT_EQ(browser->received[0].type, "job_resumed");
    EXPECT_EQ(browser->received[0].id, 3u);
    EXPECT_EQ(browser->received[0].data.at("last_seq"), 2);
    EXPECT_EQ(browser->received[1].type, "job_progress");
    EXPECT_EQ(browser->received[1].data.at("seq"), 2);
    EXPECT_EQ(browser->received[1].data.at("data"), boost::json::parse(R"({"rows":2})"));

    EXPECT_FALSE(jobs->cancel(id, "", browser, 4));
    run_until([&] { return browser->received.size() == 3; });
    EXPECT_EQ(browser->received[2].type, "job_cancelling");
    auto const seen = report(id, {jobs::backend_report::kind::progress, 30, "three", std::nullopt});
    EXPECT_TRUE(seen.cancel_requested) << "the backend learns of the cancel in its progress answer";
    EXPECT_EQ(seen.seq, 3u);
    auto const ended = report(id, {jobs::backend_report::kind::failed, 0, "cancelled", std::nullopt});
    EXPECT_EQ(ended.state, jobs::job_state::failed);
    run_until([&] { return browser->received.size() == 5; });
    EXPECT_EQ(browser->received[3].type, "job_progress");
    EXPECT_EQ(browser->received[4].type, "job_failed");
    EXPECT_EQ(browser->received[4].data.at("reason"), "cancelled");
    EXPECT_EQ(browser->received[4].data.at("seq"), 4);
}

// A job's history is bounded in bytes as well as in events: large events push the old ones out,
// and a resume from before them gets the latest state (replayed false), as past the event count.
TEST_F(backend_jobs_test, large_events_are_kept_within_the_history_byte_budget)
{
    auto const id = create();
    std::string const large(100'000, 'x');
    for (std::uint32_t percent = 1; percent <= 5; ++percent)
        report(id, {jobs::backend_report::kind::progress, percent, "big", boost::json::value(large)});
    auto browser = std::make_shared<job_watcher_stub>(7);
    EXPECT_FALSE(jobs->resume(id, "", 0, browser, 3));
    run_until([&] { return !browser->received.empty(); });
    EXPECT_EQ(browser->received[0].data.at("replayed"), false) << "the first events are gone";
    // Two 100 KB events fit in the budget with the latest: resuming after the third replays both.
    auto after_third = std::make_shared<job_watcher_stub>(8);
    EXPECT_FALSE(jobs->resume(id, "", 3, after_third, 4));
    run_until([&] { return after_third->received.size() == 3; });
    EXPECT_EQ(after_third->received[0].data.at("replayed"), true);
    EXPECT_EQ(after_third->received[1].data.at("seq"), 4);
    EXPECT_EQ(after_third->received[2].data.at("seq"), 5);
    static_assert(jobs::job::history_byte_budget / 100'000 == 2, "the test's sizes assume a 256 KiB budget");
}

TEST_F(backend_jobs_test, a_job_of_a_user_is_that_users_and_a_job_of_nobody_is_anyones)
{
    auto const alices = create({"mine", "alice", ""});
    auto const anyones = create({"ours", "", ""});
    auto browser = std::make_shared<job_watcher_stub>(1);
    auto const refused = jobs->resume(alices, "bob", 0, browser, 1);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, protocol::errc::forbidden);
    EXPECT_TRUE(jobs->cancel(alices, "", browser, 2)) << "anonymous is not alice either";
    EXPECT_FALSE(jobs->resume(alices, "alice", 0, browser, 3));
    EXPECT_FALSE(jobs->resume(anyones, "bob", 0, browser, 4));
    EXPECT_FALSE(jobs->cancel(anyones, "", browser, 5));
}

TEST_F(backend_jobs_test, a_silent_backends_job_is_failed_as_abandoned_then_forgotten)
{
    jobs::job_limits limits;
    limits.retention = 20ms;
    make(limits);
    auto const id = create();
    auto browser = std::make_shared<job_watcher_stub>(1);
    EXPECT_FALSE(jobs->resume(id, "", 0, browser, 1));
    run_until([&] { return browser->received.size() == 2; });  // job_resumed, then the failure
    EXPECT_EQ(browser->received[1].type, "job_failed");
    EXPECT_EQ(browser->received[1].data.at("reason"), "abandoned: no word from the backend for 20 ms");
    EXPECT_EQ(stats.backend_jobs_abandoned.load(), 1u);
    run_until([&] { return jobs->size() == 0; });
    auto const gone = await_on_io(jobs->status(id));
    EXPECT_EQ(std::get<jobs::job_refusal>(gone).code, protocol::errc::unknown_job);
}

TEST_F(backend_jobs_test, backend_jobs_count_against_the_servers_job_limit_only)
{
    jobs::job_limits limits;
    limits.total = 2;
    limits.per_connection = 1;
    make(limits);
    create();
    auto const second = create();
    auto third = await_on_io(jobs->create({"third", "", ""}));
    EXPECT_EQ(std::get<jobs::job_refusal>(third).code, protocol::errc::too_many_jobs);
    report(second, {jobs::backend_report::kind::done, 0, "ok", std::nullopt});
    create();  // a finished job makes room
    EXPECT_EQ(stats.backend_jobs_created.load(), 3u);
    EXPECT_EQ(stats.jobs_started.load(), 3u);
}

// Browsers' jobs and the backend's are two pools of `total` each: browsers that fill theirs
// (anonymous ones, under --auth off) leave the backend its own, and the other way round.
TEST_F(backend_jobs_test, browsers_jobs_and_the_backends_are_kept_in_two_pools)
{
    jobs::job_limits limits;
    limits.total = 2;
    make(limits);
    auto starter = std::make_shared<job_watcher_stub>(1);
    jobs::job_spec long_one;
    long_one.steps = 1000;
    long_one.step_time = 1h;
    for (int i = 0; i < 2; ++i)
        EXPECT_TRUE(std::holds_alternative<std::string>(jobs->start(long_one, starter)));
    auto const browsers_third = jobs->start(long_one, starter);
    ASSERT_TRUE(std::holds_alternative<jobs::job_refusal>(browsers_third));
    EXPECT_EQ(std::get<jobs::job_refusal>(browsers_third).code, protocol::errc::too_many_jobs);
    create();
    auto const second = create();
    auto backends_third = await_on_io(jobs->create({"third", "", ""}));
    ASSERT_TRUE(std::holds_alternative<jobs::job_refusal>(backends_third));
    EXPECT_EQ(std::get<jobs::job_refusal>(backends_third).code, protocol::errc::too_many_jobs);
    // A finished backend job makes room for the backend, not for browsers.
    report(second, {jobs::backend_report::kind::done, 0, "ok", std::nullopt});
    EXPECT_TRUE(std::holds_alternative<jobs::job_refusal>(jobs->start(long_one, starter)));
    create();
    EXPECT_EQ(jobs->size(), 4u);
}

TEST_F(backend_jobs_test, a_built_in_job_is_not_the_backends_to_report_on)
{
    auto starter = std::make_shared<job_watcher_stub>(1);
    jobs::job_spec spec;
    spec.steps = 1000;
    spec.step_time = 1h;
    auto const started = jobs->start(spec, starter);
    auto const& id = std::get<std::string>(started);
    auto answer = await_on_io(jobs->report(id, {jobs::backend_report::kind::done, 0, "x", std::nullopt}));
    EXPECT_EQ(std::get<jobs::job_refusal>(answer).code, protocol::errc::unknown_job);
}

TEST(job_ids, only_what_new_job_id_makes_is_well_formed)
{
    EXPECT_TRUE(jobs::well_formed_job_id(jobs::new_job_id()));
    EXPECT_FALSE(jobs::well_formed_job_id(""));
    EXPECT_FALSE(jobs::well_formed_job_id("0123456789ABCDEF0123456789abcdef"));
    EXPECT_FALSE(jobs::well_formed_job_id("0123456789abcdef0123456789abcde"));
    EXPECT_FALSE(jobs::well_formed_job_id("0123456789abcdef0123456789abcdef0"));
    EXPECT_FALSE(jobs::well_formed_job_id("*123456789abcdef0123456789abcdef"));
}

}  // namespace
}  // namespace coropush
