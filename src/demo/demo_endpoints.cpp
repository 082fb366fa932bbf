#include "demo/demo_endpoints.hpp"

#include "demo/echo_dialect.hpp"
#include "demo/plain_dialect.hpp"

namespace coropush::demo {

void add_endpoints(endpoints& table, server_options const& options)
{
    table.add(plain_endpoint(options));  // "/", "/ws" with no subprotocol: the original demo
    if (!options.echo_path.empty())
        table.add(echo_endpoint(options));  // --echo-path: raw echo for conformance suites
}

}  // namespace coropush::demo
