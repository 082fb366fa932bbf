// The permission check: auth mode, personal topics, then topic patterns.
#include "auth/permissions.hpp"

#include "auth/topic_pattern.hpp"

#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enum_to_string.hpp>

#include <algorithm>

namespace coropush::auth {
namespace {
constexpr std::string_view personal_prefix = "user:";

bool is_personal_topic(std::string_view topic) noexcept
{
    return topic.starts_with(personal_prefix);
}

// Whether one of `patterns` grants `topic`. For a personal topic only patterns that name the
// prefix themselves count, so a broad "*" given for public topics never reaches anyone's inbox.
bool any_pattern_grants(std::vector<std::string> const& patterns, std::string_view topic)
{
    bool const personal = is_personal_topic(topic);
    return std::any_of(patterns.begin(), patterns.end(), [&](std::string const& pattern) {
        return (!personal || is_personal_topic(pattern)) && pattern_matches(pattern, topic);
    });
}

std::vector<std::string> const& token_patterns(identity const& who, topic_operation operation) noexcept
{
    return operation == topic_operation::subscribe ? who.subscribe : who.publish;
}

std::vector<std::string> const& anonymous_patterns(access_policy const& policy, topic_operation operation) noexcept
{
    return operation == topic_operation::subscribe ? policy.anonymous_subscribe : policy.anonymous_publish;
}

}  // namespace

std::optional<auth_mode> parse_auth_mode(std::string_view text)
{
    auth_mode mode{};
    if (!boost::describe::enum_from_string(std::string(text).c_str(), mode))
        return std::nullopt;
    return mode;
}

std::string_view to_string(auth_mode mode) noexcept
{
    return boost::describe::enum_to_string(mode, "off");
}

bool allowed(access_policy const& policy, identity const* who, topic_operation operation, std::string_view topic)
{
    if (policy.mode == auth_mode::off)
        return true;
    if (operation == topic_operation::subscribe && is_personal_topic(topic))
        return who != nullptr && topic.substr(personal_prefix.size()) == who->subject;
    if (who != nullptr && any_pattern_grants(token_patterns(*who, operation), topic))
        return true;
    return policy.mode == auth_mode::optional && any_pattern_grants(anonymous_patterns(policy, operation), topic);
}

std::string personal_topic(std::string_view subject)
{
    std::string topic(personal_prefix);
    topic += subject;
    return topic;
}

}  // namespace coropush::auth
