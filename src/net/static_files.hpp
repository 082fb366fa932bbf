// Mapping a request target to a file under the web root, safely: no `..` segment (raw or
// percent-encoded), no hidden name (a segment starting with '.': /.env, /.git/...), no absolute or
// backslash path, no NUL, and no symlink that leads outside the root or to a hidden name (the
// resolved path must still be inside the resolved root).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace coropush::net {

// The path part of a request target ("/a%20b/c.html?x=1" -> "/a b/c.html"), percent-decoded.
// Nothing when the target is not an origin-form path or has a bad or NUL escape.
std::optional<std::string> decode_target_path(std::string_view target);

// The file to serve for a decoded path, or nothing (treated as 404 by the caller). `root` must be
// canonical (see std::filesystem::canonical). A directory maps to its index.html.
std::optional<std::filesystem::path> resolve_web_path(std::filesystem::path const& root, std::string_view path);

// Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string_view mime_type(std::filesystem::path const& file);

}  // namespace coropush::net
