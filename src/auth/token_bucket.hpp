// A token bucket: at most `burst` events at once, then `rate` events a second on average.
// It is the limiter behind --rate-messages (one bucket per connection) and the per-API-key limit.
#pragma once

#include <chrono>

namespace coropush::auth {

// The bucket holds up to `burst` tokens and gains `rate_per_second` tokens a second; each event
// takes one. It owns no clock: every call is told the time, so a test can say "two seconds later"
// without waiting, and a session can pass the time it already has.
class token_bucket {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // Starts full. `rate_per_second` may be fractional (0.5: one event every two seconds) or zero
    // (the burst is all there is); `burst` below 1 lets nothing through.
    token_bucket(double rate_per_second, double burst, time_point now) noexcept;

    // Takes one token if there is one: true means the event may go ahead.
    bool try_take(time_point now) noexcept;

    // Tokens available at `now` (whole and fractional), for metrics and tests.
    double available(time_point now) noexcept;

private:
    void refill(time_point now) noexcept;

    double rate_per_second_;
    double burst_;
    double tokens_;
    time_point last_refill_;
};

}  // namespace coropush::auth
