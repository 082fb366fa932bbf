// Where the server answers: every WebSocket endpoint and HTTP route, one line each. The transport
// finds a request's entry in this table (core/endpoints.hpp); it knows no feature. To add an
// endpoint, write its handler and register it here (CONTRIBUTING.md, recipe 3); to remove a
// feature's, delete its line. An application embedding coropush adds its own with server::add.
#include "server/server_state.hpp"

#include "demo/demo_endpoints.hpp"  // the demo dialects (src/demo/)
#include "service/json_dialect.hpp"

#include <algorithm>
#include <stdexcept>

namespace coropush {

void add_endpoints(endpoints& table, server_state& server)
{
    auto const& options = server.options;
    // WebSocket: the path and the offered subprotocol choose the dialect that handles a session.
    table.add(service::json_endpoint(server.services));  // "/", "/ws" with coropush.v1
    demo::add_endpoints(table, options);  // the demo dialects (src/demo/): "/", "/ws" with no subprotocol; --echo-path

    // HTTP, beside the built-in endpoints (/healthz, /readyz, /metrics, /admin/) and the web root.
    table.add(server.api.as_route(options.api_max_body_bytes));  // /api/: the server API for backends

    // An option of a feature this build does not have stops the server, rather than doing
    // nothing: a service made from this template without src/demo/ still parses --echo-path.
    auto const& registered = table.websocket_endpoints();
    if (!options.echo_path.empty() && std::none_of(registered.begin(), registered.end(),
                                                   [](auto const& endpoint) { return endpoint.name == "echo"; }))
        throw std::invalid_argument("--echo-path " + options.echo_path +
                                    ": this build has no echo endpoint (src/demo/ was removed)");
}

}  // namespace coropush
