// A fixture for the layer check: a feature may include protocol/'s message structs (allowed, one
// header of a layer named in cmake/Layers.cmake), never its codec. Not compiled.
#pragma once

#include "protocol/codec.hpp"
#include "protocol/messages.hpp"
