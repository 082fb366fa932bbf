// The Origin check for WebSocket upgrades.
#include "net/origin_policy.hpp"

#include <algorithm>
#include <cctype>

namespace coropush::net {
namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// "host[:port]" -> "host" (an IPv6 literal keeps its brackets).
std::string_view host_part(std::string_view authority)
{
    if (authority.starts_with('[')) {
        auto const close = authority.find(']');
        return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
    }
    return authority.substr(0, authority.find(':'));
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host, std::vector<std::string> const& allowed)
{
    if (origin.empty())
        return true;
    if (!allowed.empty())
        return std::any_of(allowed.begin(), allowed.end(),
                           [&](std::string const& a) { return a == "*" || iequals(a, origin); });

    auto const scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos)
        return false;  // "null" (file://, sandboxed frames) and anything malformed
    auto const scheme = origin.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https"))
        return false;
    auto const authority = origin.substr(scheme_end + 3);
    if (authority.empty() || authority.find('/') != std::string_view::npos)
        return false;

    if (!host.empty() && iequals(authority, host))
        return true;  // same origin as the page this server served
    auto const name = host_part(authority);
    return iequals(name, "localhost") || name == "127.0.0.1" || name == "[::1]";
}

}  // namespace coropush::net
