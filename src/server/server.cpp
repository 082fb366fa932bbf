// Binding, starting and stopping the server.
#include "server/server.hpp"

#include "core/log.hpp"
#include "net/listener.hpp"
#include "server/server_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace coropush {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

server::server(asio::io_context& io, server_options options, std::unique_ptr<pubsub::backplane> link)
    : state_(std::make_shared<server_state>(io, std::move(options), std::move(link)))
{
    auto const& opts = state_->options;
    tcp::endpoint const endpoint(asio::ip::make_address(opts.address), opts.port);
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);

    auto const bound = acceptor.local_endpoint();
    auto const address = bound.address();
    port_ = bound.port();
    endpoint_ = (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" + std::to_string(port_);
}

server::~server()
{
    // The io_context must have stopped running (or never run) by now; anything still listed is
    // dropped with it.
}

std::optional<std::string> unauthenticated_exposure(server_options const& options)
{
    boost::system::error_code ec;
    auto const address = asio::ip::make_address(options.address, ec);
    if (options.auth != auth::auth_mode::off || ec || address.is_loopback())
        return std::nullopt;
    return "listening on " + options.address +
           " with --auth off: any client that reaches this port may subscribe to and publish on every topic, and "
           "start jobs. Set --auth optional or --auth required (with --auth-key-file) to ask for tokens, or "
           "--address 127.0.0.1 to stay local";
}

void server::add(websocket_endpoint endpoint)
{
    if (started_)
        throw std::logic_error("server::add after start()");
    state_->routes.add(std::move(endpoint));
}

void server::add(http_route route)
{
    if (started_)
        throw std::logic_error("server::add after start()");
    state_->routes.add(std::move(route));
}

void server::start()
{
    started_ = true;
    log_info(0, "listening on ", endpoint(), " (web root ", state_->http.web_root.string(), ")");
    if (state_->tls)
        log_info(0, "TLS on every connection, certificate ", state_->tls->description());
    if (auto const warning = unauthenticated_exposure(state_->options))
        log_warn(0, *warning);
    // Messages from other nodes go to this node's subscribers (the topics feature's hub; nowhere
    // without it). The hub outlives the backplane's use of it: the backplane stops delivering at
    // shutdown, before the state (and its features) is destroyed.
    // Another node's disconnect_user closes this node's sessions of that user (and is not passed
    // on: every node hears it from the backplane itself).
    state_->link->on_disconnect_user([weak = std::weak_ptr(state_)](std::string const& user) {
        if (auto const state = weak.lock())
            state->close_sessions_of(user);
    });
    state_->link->start(state_->stats,
                        [state = state_.get()](std::string const& topic, shared_payload const& envelope) {
                            if (state->from_other_nodes)
                                state->from_other_nodes(topic, envelope);
                        });
    asio::co_spawn(state_->control, net::listen(state_), log_exceptions("the listener"));
}

std::uint16_t server::port() const
{
    return port_;
}

std::string server::endpoint() const
{
    return endpoint_;
}

void server::shutdown(std::function<void()> on_stopped)
{
    state_->begin_shutdown(std::move(on_stopped));
}

void server::stop_now()
{
    state_->stop_now();
}

std::size_t server::disconnect_user(std::string_view user)
{
    return state_->disconnect_user(user);
}

bool server::tls() const
{
    return state_->tls != nullptr;
}

std::optional<std::string> server::reload_tls()
{
    if (!state_->tls) {
        log_info(0, "no TLS certificate to reload (no --tls-cert)");
        return std::nullopt;
    }
    auto problem = state_->tls->reload();
    if (problem)
        log_error(0, "TLS certificate not reloaded, the old one stays in use: ", *problem);
    else
        log_info(0, "TLS certificate reloaded: ", state_->tls->description());
    return problem;
}

coropush::metrics const& server::metrics() const
{
    return state_->stats;
}

server_options const& server::options() const
{
    return state_->options;
}

std::size_t server::websocket_sessions() const
{
    return state_->websocket_sessions();
}

}  // namespace coropush
