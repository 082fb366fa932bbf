// Request-target decoding, web-root resolution, content types and validators.
#include "net/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace coropush::net {
namespace {
namespace fs = std::filesystem;

TEST(static_files, decodes_percent_escapes_and_drops_the_query)
{
    EXPECT_EQ(decode_target_path("/a%20b/c.html?x=%2e"), "/a b/c.html");
    EXPECT_EQ(decode_target_path("/%2E%2e/x"), "/../x");
    EXPECT_EQ(decode_target_path("/x#frag"), "/x");
    EXPECT_FALSE(decode_target_path("/bad%2"));
    EXPECT_FALSE(decode_target_path("/bad%zz"));
    EXPECT_FALSE(decode_target_path("/nul%00"));
    EXPECT_FALSE(decode_target_path("http://host/x"));
    EXPECT_FALSE(decode_target_path("*"));
    EXPECT_FALSE(decode_target_path(""));
}

class web_root : public ::testing::Test {
protected:
    void SetUp() override
    {
        base_ = fs::temp_directory_path() / ("coropush-root-" + std::to_string(::getpid()));
        fs::remove_all(base_);
        fs::create_directories(base_ / "root" / "dir");
        fs::create_directories(base_ / "outside");
        std::ofstream(base_ / "root" / "index.html") << "home";
        std::ofstream(base_ / "root" / "dir" / "index.html") << "dir";
        std::ofstream(base_ / "root" / "page.html") << "page";
        std::ofstream(base_ / "outside" / "secret") << "secret";
        fs::create_symlink(base_ / "outside" / "secret", base_ / "root" / "link-out");
        fs::create_symlink(base_ / "root" / "page.html", base_ / "root" / "link-in");
        root_ = fs::canonical(base_ / "root");
    }
    void TearDown() override { fs::remove_all(base_); }

    fs::path base_;
    fs::path root_;
};

TEST_F(web_root, maps_paths_and_directories_to_files)
{
    EXPECT_EQ(resolve_web_path(root_, "/"), root_ / "index.html");
    EXPECT_EQ(resolve_web_path(root_, "/page.html"), root_ / "page.html");
    EXPECT_EQ(resolve_web_path(root_, "/dir"), root_ / "dir" / "index.html");
    EXPECT_EQ(resolve_web_path(root_, "/dir/"), root_ / "dir" / "index.html");
    bool directory = false;
    EXPECT_TRUE(resolve_web_path(root_, "/dir", &directory));
    EXPECT_TRUE(directory);
    EXPECT_TRUE(resolve_web_path(root_, "/page.html", &directory));
    EXPECT_FALSE(directory);
    EXPECT_FALSE(resolve_web_path(root_, "/page.html/")) << "a file is not a directory";
    EXPECT_EQ(resolve_web_path(root_, "/./dir//index.html"), root_ / "dir" / "index.html");
    EXPECT_EQ(resolve_web_path(root_, "/link-in"), root_ / "page.html");
    EXPECT_FALSE(resolve_web_path(root_, "/missing.html"));
}

TEST_F(web_root, refuses_every_way_out)
{
    EXPECT_FALSE(resolve_web_path(root_, "/../outside/secret"));
    EXPECT_FALSE(resolve_web_path(root_, "/dir/../page.html")) << "'..' is refused even when it stays inside";
    EXPECT_FALSE(resolve_web_path(root_, "/link-out"));
    EXPECT_FALSE(resolve_web_path(root_, "relative"));
    EXPECT_FALSE(resolve_web_path(root_, "/..\\outside\\secret"));
    EXPECT_FALSE(resolve_web_path(root_, std::string("/page.html\0x", 12)));
    EXPECT_FALSE(resolve_web_path(root_, "/" + (base_ / "outside" / "secret").string()));
}

TEST_F(web_root, serves_no_hidden_file_or_directory)
{
    fs::create_directories(root_ / ".git");
    fs::create_directories(root_ / "a");
    fs::create_directories(root_ / ".well-known");
    std::ofstream(root_ / ".env") << "SECRET=1";
    std::ofstream(root_ / ".git" / "config") << "[core]";
    std::ofstream(root_ / "a" / ".hidden") << "hidden";
    std::ofstream(root_ / "a" / "shown.html") << "shown";
    std::ofstream(root_ / ".well-known" / "security.txt") << "contact";
    fs::create_symlink(root_ / ".env", root_ / "link-to-env");

    EXPECT_FALSE(resolve_web_path(root_, "/.env"));
    EXPECT_FALSE(resolve_web_path(root_, "/.git/config"));
    EXPECT_FALSE(resolve_web_path(root_, "/.git"));
    EXPECT_FALSE(resolve_web_path(root_, "/a/.hidden"));
    EXPECT_FALSE(resolve_web_path(root_, "/./.env")) << "'.' is skipped, the hidden name still refused";
    EXPECT_FALSE(resolve_web_path(root_, *decode_target_path("/%2eenv"))) << "percent-encoded dot";
    EXPECT_FALSE(resolve_web_path(root_, "/.well-known/security.txt")) << "no exception for .well-known (yet)";
    EXPECT_FALSE(resolve_web_path(root_, "/link-to-env")) << "a symlink leading to a hidden file";
    EXPECT_EQ(resolve_web_path(root_, "/a/shown.html"), root_ / "a" / "shown.html");
}

TEST_F(web_root, a_root_inside_a_hidden_directory_still_serves)
{
    fs::create_directories(base_ / ".local" / "web");
    std::ofstream(base_ / ".local" / "web" / "index.html") << "home";
    auto const hidden_parent = fs::canonical(base_ / ".local" / "web");
    EXPECT_EQ(resolve_web_path(hidden_parent, "/"), hidden_parent / "index.html")
        << "only names below the root are checked";
}

TEST(static_files, content_types_by_extension)
{
    EXPECT_EQ(mime_type("a.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("a.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type("a.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type("a.bin"), "application/octet-stream");
    EXPECT_EQ(mime_type("Makefile"), "application/octet-stream");
}

TEST(static_files, validators_are_spelled_as_http_has_them)
{
    EXPECT_EQ(entity_tag(0x1f, 0x17c3a5e2b9d04f00), "\"1f-17c3a5e2b9d04f00\"");
    EXPECT_EQ(entity_tag(0, 0), "\"0-0\"");
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT") << "RFC 9110's own example";
    EXPECT_EQ(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(static_files, a_matching_validator_means_not_modified)
{
    std::string_view const tag = "\"1f-abc\"";
    std::string_view const date = "Sun, 06 Nov 1994 08:49:37 GMT";
    EXPECT_TRUE(not_modified(tag, "", tag, date));
    EXPECT_TRUE(not_modified("\"0-1\", \"1f-abc\"", "", tag, date)) << "one of a list";
    EXPECT_TRUE(not_modified(" W/\"1f-abc\" ", "", tag, date)) << "If-None-Match compares weakly";
    EXPECT_TRUE(not_modified("*", "", tag, date));
    EXPECT_FALSE(not_modified("\"1f-abd\"", "", tag, date));
    EXPECT_FALSE(not_modified("\"0-1\", \"2-2\"", date, tag, date))
        << "an If-None-Match that does not match wins over a matching If-Modified-Since";
    EXPECT_FALSE(not_modified("\"1f-abc", "", tag, date)) << "an unterminated tag is not the tag";
    EXPECT_TRUE(not_modified("", date, tag, date));
    EXPECT_FALSE(not_modified("", "Sun, 06 Nov 1994 08:49:38 GMT", tag, date)) << "only the date it was sent";
    EXPECT_FALSE(not_modified("", "", tag, date)) << "no condition: the file";
    EXPECT_FALSE(not_modified(" , ", "", tag, date));
}

}  // namespace
}  // namespace coropush::net
