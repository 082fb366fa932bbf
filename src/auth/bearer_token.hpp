// The credentials of an "Authorization: Bearer <token>" header (RFC 6750 2.1), as the admin
// endpoint and the server API read them.
#pragma once

#include <optional>
#include <string_view>

namespace coropush::auth {

// The token after "Bearer " (the scheme in any case: RFC 9110 11.1; extra spaces before the
// token are skipped); nothing for another scheme, or no token at all.
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

}  // namespace coropush::auth
