// Two coropush nodes behind Debian's nginx, configured with docs/nginx/coropush.conf: clients that
// connect through the one address land on different nodes and still share topics.
#include "client/ws_client.hpp"
#include "support/api_client.hpp"
#include "support/child_process.hpp"
#include "support/json_clients.hpp"
#include "support/redis_server.hpp"
#include "support/test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <signal.h>
#include <unistd.h>

namespace coropush::testing {
namespace {
using namespace std::chrono_literals;
using boost::asio::awaitable;
using client::ws_client;

void replace_all(std::string& text, std::string const& from, std::string const& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

// A fresh directory under the system's temporary directory, removed with everything in it when
// this goes out of scope: also when the test fails or throws half-way.
class temporary_directory {
public:
    temporary_directory()
    {
        std::string name = (std::filesystem::temp_directory_path() / "coropush-nginx-XXXXXX").string();
        if (::mkdtemp(name.data()) == nullptr)
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = name;
    }
    ~temporary_directory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temporary_directory(temporary_directory const&) = delete;
    temporary_directory& operator=(temporary_directory const&) = delete;

    std::filesystem::path const& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// Starts nginx with docs/nginx/coropush.conf in front of nodes `a` and `b`, its files in `prefix`;
// returns the port it listens on. nginx refuses port 0, so it is told a port that was free a
// moment ago; if another process took it meanwhile, nginx says "bind() to ... failed" (and would
// retry the same port for seconds): stop it and try another port.
awaitable<std::uint16_t> start_nginx(std::optional<child_process>& proxy, std::filesystem::path const& prefix,
                                     std::uint16_t a, std::uint16_t b)
{
    auto const nginx = find_program("nginx");
    require(!nginx.empty(), "nginx is installed (scripts/install-deps.sh test)");
    auto executor = co_await boost::asio::this_coro::executor;
    std::ifstream in(source_directory() / "docs" / "nginx" / "coropush.conf");
    std::stringstream text;
    text << in.rdbuf();
    auto const conf_template = text.str();
    co_return co_await start_on_free_port([&](std::uint16_t port) -> awaitable<bool> {
        auto conf = conf_template;
        replace_all(conf, "@PREFIX@", prefix.string());
        replace_all(conf, "@NODE_A@", std::to_string(a));
        replace_all(conf, "@NODE_B@", std::to_string(b));
        replace_all(conf, "@LISTEN@", std::to_string(port));
        std::ofstream(prefix / "nginx.conf") << conf;
        proxy.reset();
        proxy.emplace(
            executor, nginx,
            std::vector<std::string>{"-p", prefix.string(), "-c", (prefix / "nginx.conf").string(), "-e", "stderr"});
        std::vector<std::string> outcomes{"start worker process", "bind() to"};
        auto const line = co_await proxy->wait_for_any_line(std::move(outcomes));
        if (line.find("bind() to") == std::string::npos)
            co_return true;
        proxy.reset();  // kills it
        co_return false;
    });
}

TEST(nginx_in_front, two_nodes_behind_one_address_share_topics)
{
    temporary_directory const work;
    auto const& prefix = work.path();

    run_client(
        [&]() -> awaitable<void> {
            auto executor = co_await boost::asio::this_coro::executor;
            redis_server redis(executor);
            co_await redis.start();
            auto options = test_options();
            options.backplane = redis.url();
            test_server a(options);
            test_server b(options);

            std::optional<child_process> proxy;
            auto const listen = co_await start_nginx(proxy, prefix, a.port(), b.port());
            co_await eventually([&] { return a.metrics().backplane_up == 1 && b.metrics().backplane_up == 1; },
                                "both nodes reach redis");

            auto through_nginx = json(listen);
            through_nginx.origin = "http://127.0.0.1:" + std::to_string(listen);  // as a browser would
            auto first = co_await ws_client::connect(through_nginx);
            auto second = co_await ws_client::connect(through_nginx);
            co_await eventually(
                [&] { return a.metrics().websocket_sessions_open == 1 && b.metrics().websocket_sessions_open == 1; },
                "nginx spread the two clients over the two nodes");

            for (auto* c : {&first, &second}) {
                protocol::subscribe const join{"lobby"};
                co_await c->send(join, 1);
                (void)co_await c->receive_as<protocol::subscribed>();
            }
            co_await eventually(
                [&] { return a.metrics().backplane_channels == 1 && b.metrics().backplane_channels == 1; },
                "both nodes subscribed");
            auto publisher = co_await ws_client::connect(through_nginx);
            EXPECT_EQ(co_await publish(publisher, "lobby", "hello, both nodes", 2), 1u);
            EXPECT_EQ(co_await next_text(first), "hello, both nodes");
            EXPECT_EQ(co_await next_text(second), "hello, both nodes");
            for (auto* c : {&first, &second, &publisher})
                co_await c->close();
            proxy->signal(SIGQUIT);  // graceful stop
            EXPECT_EQ(co_await proxy->wait_for_exit(), 0);
        },
        30s);
}

// A backend and a browser behind nginx: their requests land on whichever node nginx picks (round
// robin: both, here), and the job works the same from every node.
TEST(nginx_in_front, a_backend_job_is_watched_and_cancelled_whichever_node_each_request_reaches)
{
    temporary_directory const work;
    std::string const key = "the API key behind nginx";
    run_client(
        [&]() -> awaitable<void> {
            redis_server redis(co_await boost::asio::this_coro::executor);
            co_await redis.start();
            auto options = test_options();
            options.backplane = redis.url();
            options.api_key = key;
            test_server a(options);
            test_server b(options);
            std::optional<child_process> proxy;
            auto const listen = co_await start_nginx(proxy, work.path(), a.port(), b.port());
            co_await eventually([&] { return a.metrics().backplane_up == 1 && b.metrics().backplane_up == 1; },
                                "both nodes reach redis");

            auto const job = co_await create_backend_job(listen, key, R"({"label":"behind nginx"})");
            auto through_nginx = json(listen);
            through_nginx.origin = "http://127.0.0.1:" + std::to_string(listen);
            auto browser = co_await ws_client::connect(through_nginx);
            protocol::job_resume const resume{job, 0};
            co_await browser.send(resume, 1);
            (void)co_await browser.receive_as<protocol::job_resumed>();
            for (int percent = 10; percent <= 40; percent += 10) {
                auto const reply = co_await call_api(listen, key, "POST", "/api/jobs/" + job + "/progress",
                                                     R"({"percent":)" + std::to_string(percent) + R"(,"message":"m"})");
                EXPECT_EQ(reply.status, 200u);
                auto const [event, no_id] = co_await browser.receive_as<protocol::job_progress>();
                EXPECT_EQ(event.percent, static_cast<std::uint32_t>(percent));
            }
            protocol::job_cancel const cancel{job};
            co_await browser.send(cancel, 2);
            (void)co_await browser.receive_as<protocol::job_cancelling>();
            for (int i = 0; i < 2; ++i) {  // both nodes, whichever answers first
                auto const state = co_await call_api(listen, key, "GET", "/api/jobs/" + job);
                EXPECT_EQ(state.body.at("cancel_requested"), true);
            }
            auto const failed =
                co_await call_api(listen, key, "POST", "/api/jobs/" + job + "/failed", R"({"reason":"cancelled"})");
            EXPECT_EQ(failed.body.at("seq"), 5);
            auto const [end, no_id] = co_await browser.receive_as<protocol::job_failed>();
            EXPECT_EQ(end.reason, "cancelled");
            EXPECT_GT(a.metrics().api_answers(200) + a.metrics().api_answers(201), 0u) << "A answered the backend";
            EXPECT_GT(b.metrics().api_answers(200) + b.metrics().api_answers(201), 0u) << "B answered the backend";
            co_await browser.close();
            proxy->signal(SIGQUIT);
            EXPECT_EQ(co_await proxy->wait_for_exit(), 0);
        },
        30s);
}

}  // namespace
}  // namespace coropush::testing
