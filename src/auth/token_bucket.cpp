// The token bucket's refill arithmetic.
#include "auth/token_bucket.hpp"

#include <algorithm>

namespace coropush::auth {

token_bucket::token_bucket(double rate_per_second, double burst, time_point now) noexcept
    : rate_per_second_(std::max(rate_per_second, 0.0)),
      burst_(std::max(burst, 0.0)),
      tokens_(burst_),
      last_refill_(now)
{
}

bool token_bucket::try_take(time_point now) noexcept
{
    refill(now);
    if (tokens_ < 1.0)
        return false;
    tokens_ -= 1.0;
    return true;
}

double token_bucket::available(time_point now) noexcept
{
    refill(now);
    return tokens_;
}

void token_bucket::refill(time_point now) noexcept
{
    // A time before the last refill (callers on different threads, or a test going back) adds
    // nothing and does not move the mark back, so no token is ever counted twice.
    if (now <= last_refill_)
        return;
    // Seconds as a double: a gap of days cannot overflow, and the result is capped at the burst
    // anyway, so an idle client comes back with a full bucket, never more.
    std::chrono::duration<double> const elapsed = now - last_refill_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_per_second_);
    last_refill_ = now;
}

}  // namespace coropush::auth
