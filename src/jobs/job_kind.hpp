// What a job is: a coroutine that does its work in steps, reporting progress through a
// job_context. The server owns the coroutine (not the connection that started it), so a job
// goes on when its client drops and can be watched again after a reconnect.
//
// Adding a job kind: write a coroutine with the job_body signature and register it by name in
// job_manager's constructor (see sample_job in job_kinds.cpp). Clients start it with
// {"type":"job_start","data":{"kind":"<name>", ...}}.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace coropush::jobs {

// The longest label a job may have, in bytes of UTF-8: a browser's job_start and the backend's
// POST /api/v1/jobs are held to the same bound.
inline constexpr std::size_t max_label_bytes = 200;

struct job_spec {
    std::string kind = "sample";
    std::uint32_t steps = 10;
    std::chrono::steady_clock::duration step_time = std::chrono::milliseconds(500);
    std::string label;
    std::string key;  // the starting client's key for it (job_start's `key`), or empty
};

// How a job ended.
struct job_outcome {
    bool succeeded = true;
    std::string text;  // the result (job_done) or the reason (job_failed)
};

// A job body's window on the server.
class job_context {
public:
    virtual ~job_context() = default;
    // Report progress; clients watching the job get a job_progress push.
    virtual void progress(std::uint32_t percent, std::string message) = 0;
    // Wait, the way a real job waits for I/O. Returns false when the job was cancelled meanwhile:
    // the body should then return job_context::cancelled().
    virtual boost::asio::awaitable<bool> sleep(std::chrono::steady_clock::duration d) = 0;
    virtual bool cancel_requested() const noexcept = 0;

    static job_outcome cancelled() { return {false, "cancelled"}; }
};

using job_body = std::function<boost::asio::awaitable<job_outcome>(job_context&, job_spec const&)>;

// The kinds this server ships: "sample" (N steps, each step_time long) and "failing" (the same,
// but fails halfway: shows what job_failed looks like).
job_body sample_job();
job_body failing_job();

}  // namespace coropush::jobs
