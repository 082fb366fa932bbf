// Who may subscribe or publish to which topic, under --auth off|optional|required.
//
// The rules, in order:
// - `off` (the default): everything is allowed; tokens are not asked for (the loopback demo).
// - Personal topics, "user:<sub>", are reserved. Only the client whose token says sub=<sub> may
//   subscribe to one, and no pattern can grant that (not even "*"), so a backend can reach one
//   person wherever they are connected. Publishing to a personal topic needs a pattern that
//   begins with the literal "user:" ("user:*" for a support desk's token); a "*" or other pattern
//   never reaches one. The backend's own publishing (the HTTP API) is not checked here.
// - Any other topic: allowed when one of the client's patterns for that operation matches it
//   (see topic_pattern.hpp). An anonymous client has the --anonymous-subscribe/-publish patterns
//   under `optional`, none under `required`. Under `optional` a client with a token has its
//   token's patterns and the anonymous ones too: presenting a token never takes anything away.
//
// The topic is assumed to be a valid topic name (protocol/topic_name.hpp), checked beforehand.
#pragma once

#include "auth/identity.hpp"

#include <boost/describe/enum.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coropush::auth {

enum class auth_mode { off, optional, required };
BOOST_DESCRIBE_ENUM(auth_mode, off, optional, required)

// "off", "optional" or "required" (the --auth values); std::nullopt for anything else.
std::optional<auth_mode> parse_auth_mode(std::string_view text);
std::string_view to_string(auth_mode mode) noexcept;

enum class topic_operation { subscribe, publish };

struct access_policy {
    auth_mode mode = auth_mode::off;
    std::vector<std::string> anonymous_subscribe;  // --anonymous-subscribe patterns (used under `optional`)
    std::vector<std::string> anonymous_publish;    // --anonymous-publish patterns (used under `optional`)
};

// `who` is the client's verified identity, or nullptr for an anonymous client.
bool allowed(access_policy const& policy, identity const* who, topic_operation operation, std::string_view topic);

// The personal topic of the user `subject`: "user:" + subject.
std::string personal_topic(std::string_view subject);

}  // namespace coropush::auth
