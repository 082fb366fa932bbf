// The job kinds that ship with coropush. Each is a plain coroutine: a template for real work.
#include "jobs/job_kind.hpp"

#include <string>

namespace coropush::jobs {
namespace {

boost::asio::awaitable<job_outcome> count_steps(job_context& job, job_spec const& spec, std::uint32_t fail_at)
{
    for (std::uint32_t step = 1; step <= spec.steps; ++step) {
        if (!co_await job.sleep(spec.step_time))  // stands for one slice of real work
            co_return job_context::cancelled();
        if (step == fail_at)
            co_return job_outcome{false, "step " + std::to_string(step) + " failed (demonstration)"};
        auto const percent = static_cast<std::uint32_t>(std::uint64_t{step} * 100 / spec.steps);
        job.progress(percent, "step " + std::to_string(step) + " of " + std::to_string(spec.steps));
    }
    co_return job_outcome{true, "finished " + std::to_string(spec.steps) + " steps"};
}

}  // namespace

job_body sample_job()
{
    return [](job_context& job, job_spec const& spec) { return count_steps(job, spec, 0); };
}

job_body failing_job()
{
    return [](job_context& job, job_spec const& spec) { return count_steps(job, spec, spec.steps / 2 + 1); };
}

}  // namespace coropush::jobs
