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
# The domains of the features (jobs, topics), the backplane and the server API may not include
# protocol/codec.hpp: they hand typed messages (protocol/messages.hpp) to the JSON dialect's side of
# their feature, which writes them (a job's through jobs::job_wire, which
# jobs/feature/json_job_wire implements with the codec; a publish through service::topic_envelope;
# a topic carries what its publisher wrote).
set(COROPUSH_LAYERS core protocol auth config pubsub api service topics topics/feature jobs jobs/redis jobs/feature demo
    net client server app impl)

set(COROPUSH_LAYER_core "")                  # logging, metrics, the outbox, message handler, endpoint table, TLS transport
set(COROPUSH_LAYER_protocol core)            # the wire: messages, codec, error codes, topic names
set(COROPUSH_LAYER_auth core protocol)       # tokens, permissions, rate buckets
set(COROPUSH_LAYER_config core auth)         # server_options, every layer's settings
set(COROPUSH_LAYER_pubsub core config)       # the backplane between nodes: in-process, Redis
set(COROPUSH_LAYER_api core auth config)     # the server API for backends, and where features add endpoints
set(COROPUSH_LAYER_service core protocol auth config api)  # the JSON dialect, and where features plug in
# Topics, a removable feature: the folder src/topics/ and its lines of src/server/features.cpp.
set(COROPUSH_LAYER_topics core config pubsub)  # the topic hub: subscribers, fan-out, the backplane
set(COROPUSH_LAYER_topics/feature core protocol auth config pubsub api service topics)  # their messages, /api/publish, registration
# Jobs, a removable feature: the folder src/jobs/ and its lines of src/server/features.cpp.
set(COROPUSH_LAYER_jobs core protocol/messages.hpp protocol/errc.hpp config)  # jobs, and where they run
set(COROPUSH_LAYER_jobs/redis core protocol/messages.hpp protocol/errc.hpp config jobs pubsub)  # jobs kept in Redis, across nodes
set(COROPUSH_LAYER_jobs/feature core protocol auth config pubsub api service jobs jobs/redis)  # their messages, API routes, registration
set(COROPUSH_LAYER_demo core config)         # the demo dialects (plain text, raw echo): removable
set(COROPUSH_LAYER_net core protocol auth config)                  # the transport: no feature
set(COROPUSH_LAYER_client core protocol)
set(COROPUSH_LAYER_server core protocol auth config pubsub api service topics/feature jobs/feature demo net)  # the composition root
set(COROPUSH_LAYER_app core protocol auth config pubsub api service net server)
set(COROPUSH_LAYER_impl "")                  # Asio, Beast and JSON compiled once
