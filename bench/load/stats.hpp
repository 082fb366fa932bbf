// Measuring: latency samples with percentiles, and this process's CPU share over a window.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <sys/resource.h>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;

inline std::uint32_t micros(clock::duration d)
{
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

class latencies {
public:
    void add(std::uint32_t us) { samples_.push_back(us); }
    std::size_t count() const { return samples_.size(); }
    // The p-th percentile (0..100) of the samples, in microseconds; 0 when there are none.
    std::uint32_t percentile(double p)
    {
        if (samples_.empty())
            return 0;
        auto const rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples_.size() - 1));
        std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(rank), samples_.end());
        return samples_[rank];
    }
    std::uint32_t max() const { return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end()); }

private:
    std::vector<std::uint32_t> samples_;
};

// The share of one core this process used between start() and percent().
class cpu_meter {
public:
    void start()
    {
        wall_ = clock::now();
        cpu_ = used();
    }
    int percent() const
    {
        auto const wall = std::chrono::duration<double>(clock::now() - wall_).count();
        return wall > 0 ? static_cast<int>(std::lround(100.0 * (used() - cpu_) / wall)) : 0;
    }

private:
    static double used()
    {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
               static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    }
    clock::time_point wall_;
    double cpu_ = 0;
};

}  // namespace bench
