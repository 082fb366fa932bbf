// The rules an upgrade must pass before the handshake: Origin policy and key format.
#include "net/origin_policy.hpp"
#include "net/upgrade.hpp"

#include <gtest/gtest.h>

namespace coropush::net {
namespace {

TEST(origin_policy, default_accepts_no_origin_same_origin_and_localhost)
{
    std::vector<std::string> const none;
    EXPECT_TRUE(origin_allowed("", "example.com:1337", none)) << "not a browser";
    EXPECT_TRUE(origin_allowed("http://example.com:1337", "example.com:1337", none));
    EXPECT_TRUE(origin_allowed("https://EXAMPLE.com", "example.com", none));
    EXPECT_TRUE(origin_allowed("http://localhost:8080", "example.com:1337", none));
    EXPECT_TRUE(origin_allowed("http://127.0.0.1:5173", "10.0.0.1:1337", none));
    EXPECT_TRUE(origin_allowed("http://[::1]:3000", "10.0.0.1:1337", none));
}

TEST(origin_policy, default_refuses_foreign_and_opaque_origins)
{
    std::vector<std::string> const none;
    EXPECT_FALSE(origin_allowed("http://evil.example", "example.com:1337", none));
    EXPECT_FALSE(origin_allowed("http://example.com:1338", "example.com:1337", none)) << "port is part of it";
    EXPECT_FALSE(origin_allowed("http://localhost.evil.example", "example.com", none));
    EXPECT_FALSE(origin_allowed("null", "example.com", none)) << "file:// pages and sandboxed frames";
    EXPECT_FALSE(origin_allowed("ftp://localhost", "example.com", none));
    EXPECT_FALSE(origin_allowed("http://localhost/path", "example.com", none));
}

TEST(origin_policy, an_explicit_list_replaces_the_default)
{
    std::vector<std::string> const list{"https://app.example", "null"};
    EXPECT_TRUE(origin_allowed("https://app.example", "api.example", list));
    EXPECT_TRUE(origin_allowed("HTTPS://APP.EXAMPLE", "api.example", list));
    EXPECT_TRUE(origin_allowed("null", "api.example", list));
    EXPECT_FALSE(origin_allowed("http://localhost:3000", "api.example", list));
    EXPECT_TRUE(origin_allowed("http://anything", "x", {"*"}));
}

TEST(upgrade_rules, websocket_keys_must_be_16_bytes_of_base64)
{
    EXPECT_TRUE(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_FALSE(valid_websocket_key(""));
    EXPECT_FALSE(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));
    EXPECT_FALSE(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=x"));
    EXPECT_FALSE(valid_websocket_key("dGhlIHNhbXBsZSBub25jZB=="));  // stray bits in the last char
    EXPECT_FALSE(valid_websocket_key("dGhlIHNhbXBsZSBub25j!Q=="));
}

}  // namespace
}  // namespace coropush::net
