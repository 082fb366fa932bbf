// What every step of the ladder keeps from the seed: a hello is answered with a welcome at once,
// and a notice one second later.
#include "ladder_harness.hpp"

#include "support/test_server.hpp"

#include <boost/asio/this_coro.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace coropush::testing::ladder {
namespace {
using boost::asio::awaitable;

class every_step : public ::testing::TestWithParam<char const*> {};

TEST_P(every_step, answers_hello_with_welcome_then_notice_one_second_later)
{
    run_client([&]() -> awaitable<void> {
        auto step = start_step(co_await boost::asio::this_coro::executor, GetParam());
        auto client = co_await connect(co_await listening_port(step));
        co_await check_hello_then_notice(client, 1);
        co_await client.close();
    });
}

INSTANTIATE_TEST_SUITE_P(ladder, every_step,
                         ::testing::Values("ladder-01-one-coroutine", "ladder-02-reader-and-writer",
                                           "ladder-03-queue-and-one-writer", "ladder-04-deadlines",
                                           "ladder-05-keepalive", "ladder-06-graceful-shutdown", "ladder-07-topics",
                                           "ladder-08-job-progress"),
                         [](::testing::TestParamInfo<char const*> const& step) {
                             std::string name = step.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

}  // namespace
}  // namespace coropush::testing::ladder
