// Parsing redis://HOST[:PORT][/NAMESPACE].
#include "pubsub/redis_url.hpp"

#include <algorithm>
#include <charconv>

namespace coropush::pubsub {

namespace {

bool valid_name_space(std::string_view s)
{
    auto const allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    };
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), allowed);
}

bool valid_host(std::string_view s)
{
    auto const allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == ':';
    };
    return !s.empty() && s.size() <= 253 && std::all_of(s.begin(), s.end(), allowed);
}

}  // namespace

std::optional<redis_url> parse_redis_url(std::string_view text)
{
    constexpr std::string_view scheme = "redis://";
    if (!text.starts_with(scheme))
        return std::nullopt;
    text.remove_prefix(scheme.size());

    redis_url url;
    if (auto const slash = text.find('/'); slash != std::string_view::npos) {
        url.name_space = std::string(text.substr(slash + 1));
        if (!valid_name_space(url.name_space))
            return std::nullopt;
        text = text.substr(0, slash);
    }

    std::string_view host = text;
    std::string_view port;
    if (text.starts_with('[')) {  // [IPv6]:PORT
        auto const close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        host = text.substr(1, close - 1);
        auto const rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (!rest.starts_with(':'))
                return std::nullopt;
            port = rest.substr(1);
        }
    } else if (auto const colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return std::nullopt;  // an IPv6 address needs its brackets
    }
    if (!valid_host(host))
        return std::nullopt;
    url.host = std::string(host);

    if (!port.empty() || text.ends_with(':')) {
        unsigned value = 0;
        auto const [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
            return std::nullopt;
        url.port = static_cast<std::uint16_t>(value);
    }
    return url;
}

}  // namespace coropush::pubsub
