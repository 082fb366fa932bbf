// The demo dialects, a feature a new service can drop: delete this folder and the two lines in
// server/endpoints.cpp that name it (docs/template.md; scripts/check-removable.sh builds the tree
// without it).
#pragma once

#include "config/options.hpp"
#include "core/endpoints.hpp"

namespace coropush::demo {

// Registers the plain-text demo on "/" and "/ws" (a client offering no subprotocol), and the raw
// echo endpoint on --echo-path when that is set.
void add_endpoints(endpoints& table, server_options const& options);

}  // namespace coropush::demo
