# The layers of src/ and what each may include besides itself: the one table of who depends on
# whom. Layers point down; core/ uses nothing of the project; server/ (the composition root) is
# the one layer that knows every feature. cmake/CheckLayers.cmake checks every
# `#include "layer/..."` of src/ against it as part of the build, and CONTRIBUTING.md explains it.
#
# COROPUSH_LAYER_<layer> lists what <layer> may include: a layer (any of its headers), or one header
# of a layer (`protocol/messages.hpp`: that header only; the layer is linked). A layer is a folder
# of src/, or a folder inside one (`jobs/redis`): a source belongs to the deepest layer folder
# holding it, so a feature keeps all its layers in its own folder. A folder of src/ missing here
# fails the check.
#
# The features (jobs, pubsub) and the server API may not include protocol/codec.hpp: they hand
# typed messages (protocol/messages.hpp) to the JSON dialect, which writes them (a job's through
# jobs::job_wire, which jobs/feature/json_job_wire implements with the codec; the API's publish
# through the composition root and service::topic_envelope; a topic carries what its publisher
# wrote).
set(COROPUSH_LAYERS core protocol auth config pubsub api service jobs jobs/redis jobs/feature demo net client server app
    impl)

set(COROPUSH_LAYER_core "")                  # logging, metrics, the outbox, message handler, endpoint table, TLS transport
set(COROPUSH_LAYER_protocol core)            # the wire: messages, codec, error codes, topic names
set(COROPUSH_LAYER_auth core protocol)       # tokens, permissions, rate buckets
set(COROPUSH_LAYER_config core auth)         # server_options, every layer's settings
set(COROPUSH_LAYER_pubsub core config)       # topics, the backplane, Redis
set(COROPUSH_LAYER_api core protocol/messages.hpp protocol/errc.hpp protocol/topic_name.hpp auth config)  # the server API for backends
set(COROPUSH_LAYER_service core protocol auth config pubsub api)  # the JSON dialect, and where features plug in
# Jobs, a removable feature: the folder src/jobs/ and one line of src/server/features.cpp.
set(COROPUSH_LAYER_jobs core protocol/messages.hpp protocol/errc.hpp config)  # jobs, and where they run
set(COROPUSH_LAYER_jobs/redis core protocol/messages.hpp protocol/errc.hpp config jobs pubsub)  # jobs kept in Redis, across nodes
set(COROPUSH_LAYER_jobs/feature core protocol auth config pubsub api service jobs jobs/redis)  # their messages, API routes, registration
set(COROPUSH_LAYER_demo core config)         # the demo dialects (plain text, raw echo): removable
set(COROPUSH_LAYER_net core protocol auth config)                  # the transport: no feature
set(COROPUSH_LAYER_client core protocol)
set(COROPUSH_LAYER_server core protocol auth config pubsub api service jobs/feature demo net)  # the composition root
set(COROPUSH_LAYER_app core protocol auth config pubsub api service net server)
set(COROPUSH_LAYER_impl "")                  # Asio, Beast and JSON compiled once
