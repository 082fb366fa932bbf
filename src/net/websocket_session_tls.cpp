// The WebSocket session over TLS (wss://): the session's code (websocket_session_impl.hpp) compiled
// for the TLS stream. websocket_session.cpp compiles it for plain TCP.
#include "net/websocket_session_impl.hpp"

namespace coropush::net {

boost::asio::awaitable<void> run_websocket(upgrade_to_websocket<tls_stream> upgrade, std::shared_ptr<connection> conn,
                                           std::shared_ptr<session_context> server, connection_registry::entry listed)
{
    return websocket_detail::open_session(std::move(upgrade), std::move(conn), std::move(server), std::move(listed));
}

}  // namespace coropush::net
