// A fixture for the layer check: the composition root may include every layer (allowed).
#include "server/server.hpp"

#include "core/clock.hpp"
#include "net/connection.hpp"
