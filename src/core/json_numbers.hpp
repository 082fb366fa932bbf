// JSON has no infinity and no NaN, but Boost.JSON reads a number too large for a double (1e999)
// as infinity, and would write it out again as a token no JSON parser accepts (a subscriber's
// JSON.parse throws on it). What the server takes in is checked here: a message or a request body
// holding such a number is refused as not valid JSON, the sender told why, and nothing is passed
// on.
#pragma once

namespace boost::json {
class value;
}

namespace coropush {

// False when `document` holds a number that is not finite, at any depth.
bool finite_numbers_only(boost::json::value const& document) noexcept;

// The reason given to the sender when it does.
inline constexpr char const* non_finite_number_reason = "a number is too large for a double (JSON has no infinity)";

}  // namespace coropush
