// The WebSocket session over plain TCP (ws://): the session's code (websocket_session_impl.hpp)
// compiled for the bare socket. websocket_session_tls.cpp compiles it for TLS.
#include "net/websocket_session_impl.hpp"

namespace coropush::net {

boost::asio::awaitable<void> run_websocket(upgrade_to_websocket<boost::asio::ip::tcp::socket> upgrade,
                                           std::shared_ptr<connection> conn, std::shared_ptr<session_context> server,
                                           connection_registry::entry listed)
{
    return websocket_detail::open_session(std::move(upgrade), std::move(conn), std::move(server), std::move(listed));
}

}  // namespace coropush::net
