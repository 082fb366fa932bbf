// Every message of the coropush.v1 JSON dialect as a plain struct. The wire name is written once,
// as `type`; the fields are listed once, in BOOST_DESCRIBE_STRUCT, which is all the codec needs
// to turn a struct into the envelope's "data" object and back. docs/protocol.md mirrors this file.
//
// Adding a message type: declare its struct here (and in `request` below if clients send it),
// write its handler in service/json_dialect.cpp, and add a round-trip test.
#pragma once

#include <boost/describe/class.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace coropush::protocol {

// A request's id, which its answers carry; none when the request had none (and for pushes).
using request_id = std::optional<std::uint64_t>;

// --- The demo --------------------------------------------------------------------------------

// Client says hello; the server replies `welcome` (same id) and, after the push delay, `notice`.
struct hello {
    static constexpr std::string_view type = "hello";
    std::string text;
};
BOOST_DESCRIBE_STRUCT(hello, (), (text))

struct welcome {
    static constexpr std::string_view type = "welcome";
    std::string text;
};
BOOST_DESCRIBE_STRUCT(welcome, (), (text))

struct notice {
    static constexpr std::string_view type = "notice";
    std::string text;
};
BOOST_DESCRIBE_STRUCT(notice, (), (text))

// Request and reply: the server sends the text back with the request's id.
struct echo {
    static constexpr std::string_view type = "echo";
    std::string text;
};
BOOST_DESCRIBE_STRUCT(echo, (), (text))

// --- Errors ------------------------------------------------------------------------------------

// The reply to a request the server could not take; `code` is one of protocol/errc.hpp.
struct error {
    static constexpr std::string_view type = "error";
    std::string code;
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error, (), (code, message))

// --- Authentication ----------------------------------------------------------------------------

// A signed token (a JWT) from the application's backend, presented in a message rather than in
// the URL, where proxies and access logs would keep it. Sent again with a fresh token (same user)
// before the first expires, it extends the session.
struct auth {
    static constexpr std::string_view type = "auth";
    std::string token;
};
BOOST_DESCRIBE_STRUCT(auth, (), (token))

// The reply to auth: who the token says the client is (its "sub"), and when the session ends
// unless a fresh token comes first (its "exp", in seconds since 1970).
struct authenticated {
    static constexpr std::string_view type = "authenticated";
    std::string user;
    std::uint64_t expires = 0;
};
BOOST_DESCRIBE_STRUCT(authenticated, (), (user, expires))

// --- Topics ------------------------------------------------------------------------------------

struct subscribe {
    static constexpr std::string_view type = "subscribe";
    std::string topic;
};
BOOST_DESCRIBE_STRUCT(subscribe, (), (topic))

struct subscribed {
    static constexpr std::string_view type = "subscribed";
    std::string topic;
};
BOOST_DESCRIBE_STRUCT(subscribed, (), (topic))

struct unsubscribe {
    static constexpr std::string_view type = "unsubscribe";
    std::string topic;
};
BOOST_DESCRIBE_STRUCT(unsubscribe, (), (topic))

struct unsubscribed {
    static constexpr std::string_view type = "unsubscribed";
    std::string topic;
};
BOOST_DESCRIBE_STRUCT(unsubscribed, (), (topic))

// A message for a topic's subscribers: a `text` (what the demo and the dashboard show), `data`
// (any JSON value, for applications), or both; at least one of them.
struct publish {
    static constexpr std::string_view type = "publish";
    std::string topic;
    std::optional<std::string> text;
    std::optional<boost::json::value> data{};
};
BOOST_DESCRIBE_STRUCT(publish, (), (topic, text, data))

// Pushed to every subscriber of the topic (no id), with what the publisher sent.
struct message {
    static constexpr std::string_view type = "message";
    std::string topic;
    std::optional<std::string> text;
    std::optional<boost::json::value> data{};
};
BOOST_DESCRIBE_STRUCT(message, (), (topic, text, data))

// The publisher's reply: how many subscribers the message was queued for (see docs/protocol.md
// for what that counts when several nodes share a backplane).
struct published {
    static constexpr std::string_view type = "published";
    std::string topic;
    std::uint64_t delivered = 0;
};
BOOST_DESCRIBE_STRUCT(published, (), (topic, delivered))

// --- Jobs --------------------------------------------------------------------------------------

// Start a job of `kind` ("sample" if absent): `steps` steps of `step_ms` milliseconds each
// (server defaults if absent). `label` is shown back to the client.
struct job_start {
    static constexpr std::string_view type = "job_start";
    std::optional<std::string> kind;
    std::optional<std::uint32_t> steps;
    std::optional<std::uint32_t> step_ms;
    std::optional<std::string> label;
    // The client's name for this start, so that it can ask again after losing the reply: a
    // job_start with the key of a job the server still keeps (for the same user) starts nothing
    // and is answered with that job.
    std::optional<std::string> key;
};
BOOST_DESCRIBE_STRUCT(job_start, (), (kind, steps, step_ms, label, key))

// The reply to job_start. `job` is the job's id: unguessable, it is what resumes or cancels it.
// Also what a topic learns when a backend creates a job for it (kind "backend", no steps).
struct job_started {
    static constexpr std::string_view type = "job_started";
    std::string job;
    std::string kind;
    std::optional<std::uint32_t> steps;
    std::string label;
};
BOOST_DESCRIBE_STRUCT(job_started, (), (job, kind, steps, label))

// Progress of a job, pushed to the clients watching it. `seq` counts this job's events from 1
// (progress and the final event alike), so a client knows what it has seen. `data`: what a
// backend sent with its progress (any JSON value), when it sent something.
struct job_progress {
    static constexpr std::string_view type = "job_progress";
    std::string job;
    std::uint64_t seq = 0;
    std::uint32_t percent = 0;
    std::string message;
    std::optional<boost::json::value> data{};
};
BOOST_DESCRIBE_STRUCT(job_progress, (), (job, seq, percent, message, data))

struct job_done {
    static constexpr std::string_view type = "job_done";
    std::string job;
    std::uint64_t seq = 0;
    std::string result;
};
BOOST_DESCRIBE_STRUCT(job_done, (), (job, seq, result))

// The job ended without finishing: `reason` is "cancelled" or what went wrong.
struct job_failed {
    static constexpr std::string_view type = "job_failed";
    std::string job;
    std::uint64_t seq = 0;
    std::string reason;
};
BOOST_DESCRIBE_STRUCT(job_failed, (), (job, seq, reason))

struct job_cancel {
    static constexpr std::string_view type = "job_cancel";
    std::string job;
};
BOOST_DESCRIBE_STRUCT(job_cancel, (), (job))

// The reply to job_cancel: the job was running and is being cancelled (its job_failed follows).
struct job_cancelling {
    static constexpr std::string_view type = "job_cancelling";
    std::string job;
};
BOOST_DESCRIBE_STRUCT(job_cancelling, (), (job))

// Watch a job again (after a reconnect): the events after `after_seq` follow, then the live ones.
struct job_resume {
    static constexpr std::string_view type = "job_resume";
    std::string job;
    std::uint64_t after_seq = 0;
};
BOOST_DESCRIBE_STRUCT(job_resume, (), (job, after_seq))

// The reply to job_resume, sent before the replayed events. `replayed` says whether every missed
// event follows (true) or only the latest state, because older events were coalesced away.
struct job_resumed {
    static constexpr std::string_view type = "job_resumed";
    std::string job;
    std::uint64_t last_seq = 0;
    bool replayed = true;
};
BOOST_DESCRIBE_STRUCT(job_resumed, (), (job, last_seq, replayed))

// --- What a client may send --------------------------------------------------------------------

using request = std::variant<hello, echo, auth, subscribe, unsubscribe, publish, job_start, job_cancel, job_resume>;

}  // namespace coropush::protocol
