// The rules an upgrade must pass before the handshake: the Origin policy (and what its refusals
// log), and the key format. Which endpoints check Origin: dialects_test.cpp.
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
    EXPECT_TRUE(origin_allowed("http://127.0.0.2", "10.0.0.1:1337", none)) << "all of 127.0.0.0/8 is loopback";
}

TEST(origin_policy, schemes_and_hosts_compare_case_insensitively)
{
    std::vector<std::string> const none;
    EXPECT_TRUE(origin_allowed("HTTP://LOCALHOST:8080", "example.com", none));
    EXPECT_TRUE(origin_allowed("HtTpS://Example.COM:1337", "example.com:1337", none));
    EXPECT_TRUE(origin_allowed("http://example.com:1337", "EXAMPLE.COM:1337", none));
}

TEST(origin_policy, same_origin_means_the_same_host_and_port_as_written)
{
    std::vector<std::string> const none;
    EXPECT_TRUE(origin_allowed("http://[2001:db8::1]:1337", "[2001:db8::1]:1337", none));
    EXPECT_FALSE(origin_allowed("http://example.com", "example.com:1337", none));
    EXPECT_FALSE(origin_allowed("http://example.com:1337", "example.com", none));
    EXPECT_FALSE(origin_allowed("http://example.com:1337", "", none)) << "no Host header, no same origin";
    EXPECT_FALSE(origin_allowed("http://example.com:1337", "user@example.com:1337", none));
}

// Each of these once passed a substring search for "://", '[' and ':'; none is an origin a browser
// sends, and the URL parser refuses each.
TEST(origin_policy, malformed_origins_are_refused)
{
    std::vector<std::string> const none;
    for (std::string_view const origin : {
             "http://[::1]evil.com",     // not the IPv6 literal [::1] followed by a port
             "http://[::1]evil.com:80",  // nor with one
             "http://[::1",              // unclosed literal
             "http://localhost:",        // empty port
             "http://localhost:0",       // no page is served from port 0
             "http://localhost:65536",   // past the last port
             "http://localhost:8080x",   // not a port
             "http://user@localhost",    // an origin has no user
             "http://localhost?x=1",     // nor a query
             "http://localhost#top",     // nor a fragment
             "http://localhost/",        // nor a path
             "http://",                  // nor an empty host
             "http://[v1.x]",            // an IPvFuture literal is not a web origin
             "localhost",                // not a URL with a scheme
             "//localhost",              // nor this
             "http:localhost",           // no authority
             "http://local host",        // not URL characters
             " http://localhost",        // nor this
         }) {
        EXPECT_FALSE(origin_allowed(origin, "localhost", none)) << origin;
        auto const after_scheme = origin.find("//");
        auto const as_host = after_scheme == std::string_view::npos ? origin : origin.substr(after_scheme + 2);
        EXPECT_FALSE(origin_allowed(origin, as_host, none)) << origin << " with Host: " << as_host;
    }
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
    EXPECT_TRUE(origin_allowed("http://[::1]evil.com", "x", {"https://app.example", "*"})) << "* is any origin";
}

TEST(origin_policy, a_list_matches_well_formed_origins_only)
{
    std::vector<std::string> const list{"http://[::1]evil.com", "http://localhost/"};
    EXPECT_FALSE(origin_allowed("http://[::1]evil.com", "x", list));
    EXPECT_FALSE(origin_allowed("http://localhost/", "x", list));
}

TEST(origin_policy, a_refusal_note_names_the_origin_and_the_option_that_would_allow_it)
{
    std::vector<std::string> const none;
    auto const for_null = origin_refusal_note("null", none);
    EXPECT_NE(for_null.find("\"null\""), std::string::npos) << for_null;
    EXPECT_NE(for_null.find("--allow-origin null would allow it"), std::string::npos) << for_null;
    EXPECT_NE(for_null.find("replaces"), std::string::npos) << "a list replaces the default: " << for_null;

    std::vector<std::string> const list{"https://app.example"};
    auto const listed = origin_refusal_note("https://other.example", list);
    EXPECT_NE(listed.find("--allow-origin https://other.example would allow it"), std::string::npos) << listed;

    auto const malformed = origin_refusal_note("http://[::1]evil.com\x01", none);
    EXPECT_NE(malformed.find("\"http://[::1]evil.com\\x01\""), std::string::npos) << malformed;
    EXPECT_NE(malformed.find("not a well-formed origin"), std::string::npos) << malformed;
    EXPECT_EQ(malformed.find("would allow it"), std::string::npos) << malformed;
}

// What no browser's Origin can equal is refused as an --allow-origin entry, with what to write:
// a trailing slash would otherwise refuse every page of that site, silently.
TEST(origin_policy, an_allowed_origin_must_be_one_a_browser_can_send)
{
    for (std::string_view const fine :
         {"*", "null", "https://a.example", "http://a.example:8080", "HTTPS://A.Example", "http://[::1]:3000"})
        EXPECT_EQ(allowed_origin_problem(fine), std::nullopt) << fine;
    struct wrong {
        std::string_view value;
        std::string_view says;
    };
    for (auto const& w : std::vector<wrong>{
             {"", "expects an origin"},
             {"a.example", "expects an origin"},
             {"ftp://a.example", "expects an origin"},
             {"https://", "expects an origin"},
             {"https://a.example/", "write https://a.example"},
             {"https://a.example/app", "write https://a.example"},
             {"https://a.example:8443/?x", "write https://a.example:8443"},
             {"https://user@a.example", "write https://a.example"},
             {"http://a.example:99999", "a port from 1 to 65535"},
             {"http://a.example:0", "a port from 1 to 65535"},
             {"http://a.example:80", "default port: write http://a.example"},
             {"https://a.example:443", "default port: write https://a.example"},
         }) {
        auto const problem = allowed_origin_problem(w.value);
        ASSERT_TRUE(problem.has_value()) << w.value;
        EXPECT_NE(problem->find(w.says), std::string::npos) << w.value << ": " << *problem;
    }
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
