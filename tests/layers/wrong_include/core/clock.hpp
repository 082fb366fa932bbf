// A fixture for the layer check (cmake/CheckLayers.cmake): core/ may include nothing of the
// project, so this include must fail the check. Not compiled.
#pragma once

#include "core/log.hpp"
#include "net/connection.hpp"
