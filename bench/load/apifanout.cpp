// apifanout: the fanout workload with the publisher as a backend: each message is a
// `POST /api/publish` ({"topic":"bench","text":...}) over one keep-alive HTTP connection with
// `Authorization: Bearer KEY`, answered {"delivered":N}. Everything else (the subscribers, the
// checks, the latency from request written to the last subscriber's read, the report) is
// fanout's, so the two compare line by line: what differs is the API's path through the server.
#include "load/fanout.hpp"
#include "load/http_conn.hpp"

#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <cstdio>

namespace bench {
namespace asio = boost::asio;

namespace {

class api_publisher final : public fanout_publisher {
public:
    api_publisher(asio::any_io_executor ex, settings const& s)
        : conn_(std::move(ex))
    {
        // Everything before the body's length is the same for every request: made once.
        head_.append("POST /api/publish HTTP/1.1\r\nHost: ")
            .append(s.where.host)
            .append("\r\nAuthorization: Bearer ")
            .append(s.api_key)
            .append("\r\nContent-Type: application/json\r\nContent-Length: ");
    }

    asio::awaitable<std::string> open(settings const& s) override { return conn_.open(s.where); }

    asio::awaitable<bool> publish(std::uint64_t, std::string_view text_value) override
    {
        // Formatted into buffers that keep their capacity: no allocation per message.
        body_.clear();
        body_.append(R"({"topic":"bench","text":")").append(text_value).append(R"("})");
        char digits[24];
        auto const end = std::to_chars(std::begin(digits), std::end(digits), body_.size()).ptr;
        request_.assign(head_).append(std::begin(digits), end).append("\r\n\r\n").append(body_);
        return conn_.write(request_);
    }

    asio::awaitable<void> read_answers(fanout_state& state, std::size_t msgs, std::size_t subscribers) override
    {
        while (state.acknowledged < msgs) {
            auto const answer = co_await conn_.read_answer();
            if (answer.status == 0) {
                ++state.unexpected_closes;
                state.progress.notify();
                co_return;
            }
            std::uint64_t delivered = 0;
            if (answer.status != 200 || !find_number(answer.body, "delivered", delivered)) {
                // A 401 (wrong key) or a 429 (the rate limit) is what goes wrong here: say which.
                std::fprintf(stderr, "the API answered %u %.*s\n", answer.status, static_cast<int>(answer.body.size()),
                             answer.body.data());
                state.refuse();
                co_return;
            }
            state.answered(state.acknowledged + 1, delivered, subscribers);
        }
    }

    void drop() noexcept override { conn_.drop(); }

private:
    http_conn conn_;
    std::string head_;
    std::string body_;
    std::string request_;
};

}  // namespace

asio::awaitable<int> run_apifanout(settings const& s)
{
    if (s.api_key.empty()) {
        std::printf("mode=apifanout error=no-api-key rc=2\n");
        co_return 2;
    }
    api_publisher publisher(co_await asio::this_coro::executor, s);
    co_return co_await run_fanout_with(s, "apifanout", publisher);
}

}  // namespace bench
