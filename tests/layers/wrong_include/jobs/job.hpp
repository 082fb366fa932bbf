// A fixture for the layer check: a feature may include protocol/'s message structs (allowed, one
// header of a layer named in cmake/Layers.cmake), never its codec; and a feature's domain may not
// include its own glue, a layer of its folder above it (jobs/feature/). Not compiled.
#pragma once

#include "jobs/feature/jobs_feature.hpp"
#include "protocol/codec.hpp"
#include "protocol/messages.hpp"
