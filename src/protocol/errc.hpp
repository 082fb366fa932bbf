// The stable codes of error envelopes. Clients switch on these strings, so a code is never
// renamed or reused; docs/protocol.md lists each with the input that causes it.
#pragma once

#include <boost/describe/enum.hpp>

#include <string_view>

namespace coropush::protocol {

enum class errc {
    invalid_json,            // the text frame is not valid JSON
    not_object,              // valid JSON, but not an object
    missing_type,            // no "type", or "type" is not a string
    unknown_type,            // "type" names no request this server handles
    bad_id,                  // "id" is present but not an unsigned 64-bit integer
    bad_data,                // "data" is not an object, or a field is missing or of the wrong type
    binary_unsupported,      // a binary frame on the JSON dialect
    invalid_topic,           // a topic name that is empty, too long or has characters outside [A-Za-z0-9._:/-]
    too_many_subscriptions,  // the connection's subscription limit is reached
    too_many_jobs,           // the connection's or the server's job limit is reached
    unknown_job,             // no job with that id (never existed, or forgotten after retention)
    job_finished,            // job_cancel for a job that has already ended
    shutting_down,           // the server is draining and starts nothing new
    backplane_unavailable,   // the request needs the scale-out backplane, which is down
    unauthorized,            // a token was refused, or one is needed first (--auth required)
    forbidden,               // authenticated or not, this client may not do that (topic, job, user)
    rate_limited,            // the connection sends faster than --rate-messages allows
};
BOOST_DESCRIBE_ENUM(errc, invalid_json, not_object, missing_type, unknown_type, bad_id, bad_data, binary_unsupported,
                    invalid_topic, too_many_subscriptions, too_many_jobs, unknown_job, job_finished, shutting_down,
                    backplane_unavailable, unauthorized, forbidden, rate_limited)

// The wire spelling of a code ("invalid_json", ...).
std::string_view to_string(errc code);

}  // namespace coropush::protocol
