// The ladder's shared parts (see ladder.hpp), compiled once for all the steps.
#include "ladder.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace ladder {

std::uint16_t port_from_command_line(int argc, char** argv)
{
    if (argc < 2)
        return 0;
    std::string_view const text = argv[1];
    std::uint16_t port = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (error != std::errc() || end != text.data() + text.size() || argc > 2) {
        std::cerr << "usage: " << argv[0] << " [PORT]   (0 or none: any free port)\n";
        std::exit(2);
    }
    return port;
}

void say(std::string_view line)
{
    std::cout << line << std::endl;  // endl flushes: a test is waiting for this line
}

tcp::acceptor listen(asio::any_io_executor executor, std::uint16_t port)
{
    tcp::acceptor acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    say("listening on 127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
    return acceptor;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, session_function session)
{
    for (std::uint64_t id = 1;; ++id) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec == asio::error::operation_aborted)
            break;  // the acceptor was closed (step 6's shutdown): no more sessions
        if (ec) {
            // Out of file descriptors and the like: say so, breathe, and keep serving the rest.
            say("accept failed: " + ec.message());
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(nothrow);
            continue;
        }
        // The session runs on as a coroutine of its own; if it ends by an exception (a bug: a peer
        // that leaves is a value, not an exception), log_exceptions says so on stderr.
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket), id),
                       coropush::log_exceptions("session " + std::to_string(id)));
    }
}

int serve(int argc, char** argv, session_function session)
{
    asio::io_context io;
    auto acceptor = listen(io.get_executor(), port_from_command_line(argc, argv));
    asio::co_spawn(io, accept_loop(acceptor, std::move(session)), coropush::log_exceptions("accept loop"));
    io.run();
    return 0;
}

std::optional<request> take_request(boost::beast::flat_buffer& buffer)
{
    auto const text = boost::beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());

    boost::system::error_code ec;
    auto document = boost::json::parse(text, ec);
    if (ec || !document.is_object())
        return std::nullopt;
    auto& object = document.get_object();
    request r;
    if (auto const* type = object.if_contains("type"); type && type->is_string())
        r.type = type->get_string();
    else
        return std::nullopt;
    if (auto const* id = object.if_contains("id"); id && id->is_uint64())
        r.id = id->get_uint64();
    else if (id && id->is_int64() && id->get_int64() >= 0)
        r.id = static_cast<std::uint64_t>(id->get_int64());
    if (auto* data = object.if_contains("data"); data && data->is_object())
        r.data = std::move(data->get_object());
    return r;
}

std::string string_field(request const& r, std::string_view name)
{
    if (auto const* field = r.data.if_contains(name); field && field->is_string())
        return std::string(field->get_string());
    return {};
}

std::uint64_t number_field(request const& r, std::string_view name, std::uint64_t fallback)
{
    auto const* field = r.data.if_contains(name);
    if (field && field->is_uint64())
        return field->get_uint64();
    if (field && field->is_int64() && field->get_int64() >= 0)
        return static_cast<std::uint64_t>(field->get_int64());
    return fallback;
}

outbound_message make_message(std::string_view type, std::optional<std::uint64_t> id, boost::json::object data)
{
    boost::json::object envelope;
    envelope["type"] = type;
    if (id)
        envelope["id"] = *id;
    if (!data.empty())
        envelope["data"] = std::move(data);
    return std::make_shared<std::string const>(boost::json::serialize(envelope));
}

outbound_message make_error(std::optional<request> const& r, std::string_view message)
{
    return make_message("error", r ? r->id : std::nullopt, {{"message", message}});
}

}  // namespace ladder
