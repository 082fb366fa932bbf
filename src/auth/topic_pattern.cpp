// Topic pattern validation and matching.
#include "auth/topic_pattern.hpp"

#include "protocol/topic_name.hpp"

#include <algorithm>

namespace coropush::auth {

bool valid_topic_pattern(std::string_view pattern, std::size_t max_length) noexcept
{
    // The characters of a topic name, so a pattern can only ever match names the hub accepts.
    auto const allowed = [](char c) { return c == '*' || valid_topic_name(std::string_view(&c, 1), 1); };
    return !pattern.empty() && pattern.size() <= max_length && std::all_of(pattern.begin(), pattern.end(), allowed);
}

bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept
{
    // Walks both strings once, remembering the last `*` seen. On a mismatch that `*` is made to
    // swallow one more character of the topic and matching resumes after it; with no `*` to fall
    // back on, the topic does not match. Patterns and topics are short, so the worst case
    // (pattern length times topic length) is small, and nothing recurses.
    constexpr auto none = std::string_view::npos;
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = none;
    std::size_t star_topic = 0;
    while (t < topic.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_topic = t;
        } else if (p < pattern.size() && pattern[p] == topic[t]) {
            ++p;
            ++t;
        } else if (star != none) {
            p = star + 1;
            t = ++star_topic;
        } else {
            return false;
        }
    }
    // The topic is used up: what is left of the pattern must be stars, which may match nothing.
    return std::all_of(pattern.begin() + static_cast<std::ptrdiff_t>(p), pattern.end(),
                       [](char c) { return c == '*'; });
}

}  // namespace coropush::auth
