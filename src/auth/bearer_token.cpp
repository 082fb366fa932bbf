// Reading a bearer token out of an Authorization header.
#include "auth/bearer_token.hpp"

#include <algorithm>
#include <cctype>

namespace coropush::auth {

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept
{
    constexpr std::string_view scheme = "bearer";
    if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ')
        return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
            return std::nullopt;
    auto const rest = authorization.substr(scheme.size());
    auto const token = rest.substr(std::min(rest.find_first_not_of(' '), rest.size()));
    if (token.empty())
        return std::nullopt;
    return token;
}

request_credentials request_bearer_token(std::size_t header_lines, std::string_view first) noexcept
{
    if (header_lines > 1)
        return {.token = std::nullopt, .repeated = true};
    return {.token = bearer_token(first), .repeated = false};
}

}  // namespace coropush::auth
