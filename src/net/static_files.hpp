// Mapping a request target to a file under the web root, safely: no `..` segment (raw or
// percent-encoded), no hidden name (a segment starting with '.': /.env, /.git/...), no absolute or
// backslash path, no NUL, and no symlink that leads outside the root or to a hidden name (the
// resolved path must still be inside the resolved root).
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace coropush::net {

// The path part of a request target ("/a%20b/c.html?x=1" -> "/a b/c.html"), percent-decoded.
// Nothing when the target is not an origin-form path or has a bad or NUL escape.
std::optional<std::string> decode_target_path(std::string_view target);

// The file to serve for a decoded path, or nothing (treated as 404 by the caller). `root` must be
// canonical (see std::filesystem::canonical). A directory maps to its index.html (and, when
// `directory` is given, sets it: the caller redirects "/docs" to "/docs/", where the page's
// relative links lead where they should).
std::optional<std::filesystem::path> resolve_web_path(std::filesystem::path const& root, std::string_view path,
                                                      bool* directory = nullptr);

// Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string_view mime_type(std::filesystem::path const& file);

// A file's validators, so that a browser revalidating it (the files are served with
// Cache-Control: no-cache) gets 304 Not Modified while it is unchanged: an ETag made of its size
// and modification time in nanoseconds ("<size hex>-<mtime hex>"), and its Last-Modified date.
std::string entity_tag(std::uintmax_t size, std::int64_t modified_ns);
// An HTTP date (RFC 9110 5.6.7, IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t when);

// Whether a GET or HEAD with these conditional headers (empty when absent) is answered 304: an
// If-None-Match that lists the ETag (weak comparison, RFC 9110 13.1.2) or is "*"; without an
// If-None-Match, an If-Modified-Since equal to Last-Modified (the exact match nginx makes by
// default: a date the server did not send is no evidence of what the client holds).
bool not_modified(std::string_view if_none_match, std::string_view if_modified_since, std::string_view etag,
                  std::string_view last_modified);

}  // namespace coropush::net
