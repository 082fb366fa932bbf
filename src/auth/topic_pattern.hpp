// Topic patterns: topic names in which `*` stands for any run of characters, as tokens and the
// --anonymous-subscribe / --anonymous-publish options write them ("news.*", "chat:room-*", "*").
#pragma once

#include <cstddef>
#include <string_view>

namespace coropush::auth {

// 1..max_length characters, each one a topic name character ([A-Za-z0-9._:/-]) or `*`.
bool valid_topic_pattern(std::string_view pattern, std::size_t max_length) noexcept;

// `*` matches any run of characters, including none and including `.`, `:` and `/`: "news.*"
// matches "news." and "news.eu.sport", but not "news"; "*" matches every topic. Every other
// character matches only itself (case-sensitive), and the pattern must cover the whole topic.
bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept;

}  // namespace coropush::auth
