// Fixture for cmake/CheckCoAwaitTemporaries.cmake: each co_await below makes a temporary that GCC 12
// destroys twice, and the check must name every one. Never compiled.
asio::awaitable<void> reader(std::shared_ptr<session> s)
{
    co_await read_requests(*s, [s](request const& r) { answer(s, r); });
    co_await read_requests(*s, [&, name](request const& r) { log(name); });
    co_await launch_all([=](int port) { return launch(program, port); });
    co_await client.send(protocol::hello{"hi"}, 1);
    auto c = co_await ws_client::connect({.port = port});
    co_await write_all(conn, std::vector<std::string>{"a", "b"});
}
