// A fixture for the layer check: the transport may include core/ (allowed), never server/.
#pragma once

#include "core/clock.hpp"
#include "server/server.hpp"
