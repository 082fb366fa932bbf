// The credentials of an "Authorization: Bearer <token>" header (RFC 6750 2.1), as the admin
// endpoint and the server API read them.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace coropush::auth {

// The token after "Bearer " (the scheme in any case: RFC 9110 11.1; extra spaces before the
// token are skipped); nothing for another scheme, or no token at all.
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

// A request's credentials: the bearer token of its only Authorization header. Two or more
// headers are `repeated`, refused with 400 wherever a token is read (the server API and the admin
// endpoint alike), since which one a proxy in front passes on, or logs, is anyone's guess.
struct request_credentials {
    std::optional<std::string_view> token;  // nothing: no header, another scheme, no token, or repeated
    bool repeated = false;
};
// `header_lines`: how many Authorization header lines the request has; `first`: the first's value.
request_credentials request_bearer_token(std::size_t header_lines, std::string_view first) noexcept;

}  // namespace coropush::auth
