// The Redis backplane's address: redis://HOST[:PORT][/NAMESPACE].
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT defaults to 6379; NAMESPACE
// (default "coropush") prefixes every Redis channel this server uses, so several applications
// can share one Redis without hearing each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coropush::pubsub {

struct redis_url {
    std::string host;
    std::uint16_t port = 6379;
    std::string name_space = "coropush";
};

// std::nullopt when `text` is not such a URL.
std::optional<redis_url> parse_redis_url(std::string_view text);

}  // namespace coropush::pubsub
