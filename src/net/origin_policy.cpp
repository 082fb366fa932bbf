// The Origin check for WebSocket upgrades, on Boost.URL's parser: an origin is taken apart by the
// URL grammar, never by searching for "://" or ':' (which read "http://[::1]evil.com" as [::1]).
#include "net/origin_policy.hpp"

#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace coropush::net {
namespace urls = boost::urls;

namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// A port as an origin may carry it: digits for 1 to 65535 (the URL grammar alone allows any
// number of digits, or none after the colon).
bool valid_port(std::string_view port)
{
    std::uint16_t number = 0;
    auto const [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    return ec == std::errc{} && end == port.data() + port.size() && number != 0;
}

// The origin of an http or https page, as a browser serializes it (a view into `origin`); nothing
// for "null" (file:// pages, sandboxed frames) and for anything that is not an origin.
std::optional<urls::url_view> parse_web_origin(std::string_view origin)
{
    auto const parsed = urls::parse_uri(origin);
    if (!parsed)
        return std::nullopt;
    auto const& url = *parsed;
    bool const web_scheme = url.scheme_id() == urls::scheme::http || url.scheme_id() == urls::scheme::https;
    bool const bare_host = url.has_authority() && !url.encoded_host().empty() && !url.has_userinfo() &&
                           url.encoded_path().empty() && !url.has_query() && !url.has_fragment();
    if (!web_scheme || !bare_host || url.host_type() == urls::host_type::ipvfuture)
        return std::nullopt;
    if (url.has_port() && !valid_port(url.port()))
        return std::nullopt;
    return url;
}

// For a well-formed origin: a port that is its scheme's default, which browsers leave out.
std::optional<std::string> allowed_default_port(std::string_view origin)
{
    auto const url = parse_web_origin(origin);
    if (!url || !url->has_port())
        return std::nullopt;
    bool const http = url->scheme_id() == urls::scheme::http;
    if (url->port() != (http ? "80" : "443"))
        return std::nullopt;
    return "a browser leaves out the scheme's default port: write " + std::string(url->scheme()) + "://" +
           std::string(url->encoded_host());
}

bool well_formed(std::string_view origin)
{
    return origin == "null" || parse_web_origin(origin).has_value();
}

// Same origin: the page was served by the host the client asked for (the Host header), the same
// name or address and the same port as written.
bool same_host(urls::url_view const& origin, std::string_view host_header)
{
    auto const host = urls::parse_authority(host_header);
    return host && !host->has_userinfo() && iequals(origin.encoded_host(), host->encoded_host()) &&
           origin.port() == host->port();
}

bool loopback(urls::url_view const& origin)
{
    switch (origin.host_type()) {
    case urls::host_type::name:
        return iequals(origin.encoded_host(), "localhost");
    case urls::host_type::ipv4:
        return origin.host_ipv4_address().is_loopback();
    case urls::host_type::ipv6:
        return origin.host_ipv6_address().is_loopback();
    default:
        return false;
    }
}

// The origin as a log line can show it: quoted, printable ASCII only, and not too long.
std::string quoted_origin(std::string_view origin)
{
    constexpr std::size_t most = 200;
    std::string out = "\"";
    for (char const c : origin.substr(0, most)) {
        auto const byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += origin.size() > most ? "\"..." : "\"";
    return out;
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host, std::vector<std::string> const& allowed)
{
    if (origin.empty())
        return true;
    if (std::find(allowed.begin(), allowed.end(), "*") != allowed.end())
        return true;
    if (!allowed.empty())
        return well_formed(origin) &&
               std::any_of(allowed.begin(), allowed.end(), [&](std::string const& a) { return iequals(a, origin); });

    auto const web_origin = parse_web_origin(origin);
    if (!web_origin)
        return false;  // "null" and anything malformed
    return same_host(*web_origin, host) || loopback(*web_origin);
}

std::optional<std::string> allowed_origin_problem(std::string_view value)
{
    if (value == "*" || value == "null" || parse_web_origin(value))
        return allowed_default_port(value);
    auto const parsed = urls::parse_uri(value);
    if (!parsed || (parsed->scheme_id() != urls::scheme::http && parsed->scheme_id() != urls::scheme::https) ||
        !parsed->has_authority() || parsed->encoded_host().empty() || parsed->host_type() == urls::host_type::ipvfuture)
        return std::string("expects an origin as a browser sends it, scheme://host[:port] with http or https "
                           "(such as https://example.com), or null, or *");
    if (parsed->has_port() && !valid_port(parsed->port()))
        return std::string("expects a port from 1 to 65535");
    std::string origin = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host());
    if (parsed->has_port())
        origin += ":" + std::string(parsed->port());
    return "a browser's Origin has no path, query, user or trailing slash: write " + origin;
}

std::string origin_refusal_note(std::string_view origin, std::vector<std::string> const& allowed)
{
    auto const quoted = quoted_origin(origin);
    if (!well_formed(origin))
        return quoted + " is not a well-formed origin; only --allow-origin '*' would accept it";
    auto const option = "--allow-origin " + std::string(origin);
    if (allowed.empty())
        return quoted + " is neither the same origin nor a loopback page; " + option +
               " would allow it (a list replaces that default)";
    return quoted + " is not in the --allow-origin list; " + option + " would allow it";
}

}  // namespace coropush::net
