// Fixture for cmake/CheckCoAwaitTemporaries.cmake: nothing here is destroyed twice, and the check
// must let all of it be. Never compiled.
asio::awaitable<void> reader(std::shared_ptr<session> s)
{
    auto const answer = [s](request const& r) { respond(s, r); };  // named first
    co_await read_requests(*s, answer);
    co_await eventually([&] { return sessions() == 0; }, "the session has ended");
    co_await with_this([this, &s](int) { poke(s); });
    co_await expect_error(client, "[1,2]", "not_object", {});
    co_await c.send_text(std::string(std::size_t{64} * 1024, 'x'));
    auto [ec] = co_await timer.async_wait(nothrow);
    if (!co_await fill())
        co_return answer_type{};
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [&](auto done) { start(asio::bind_executor(strand, [&, done = std::move(done)]() mutable { done(); })); },
        strand);
    co_await ask(R"({"label":"l","data":{"rows":250}})");  // a JSON string is no braced list
}
