// Web root path resolution and content types.
#include "net/static_files.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace coropush::net {
namespace fs = std::filesystem;

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_within(fs::path const& root, fs::path const& candidate)
{
    auto const [root_end, candidate_at] = std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
    return root_end == root.end();
}

// A name hidden by convention (.env, .git, .htpasswd): such files hold secrets and tooling state,
// never pages, so none is served, wherever it is in the tree. "." alone is the directory itself.
bool is_hidden(std::string_view name)
{
    return name.starts_with('.') && name != ".";
}

// Whether a part of `resolved` below `root` is hidden: a symlink must not lead to a dotfile either.
bool has_hidden_part(fs::path const& root, fs::path const& resolved)
{
    auto part = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end()).second;
    for (; part != resolved.end(); ++part)
        if (is_hidden(part->native()))
            return true;
    return false;
}

}  // namespace

std::optional<std::string> decode_target_path(std::string_view target)
{
    auto const query = target.find_first_of("?#");
    auto const raw = target.substr(0, query);
    if (raw.empty() || raw.front() != '/')
        return std::nullopt;  // absolute-form ("http://...") and asterisk-form are not files

    std::string path;
    path.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') {
            path += raw[i];
            continue;
        }
        if (i + 2 >= raw.size())
            return std::nullopt;
        int const high = hex_value(raw[i + 1]);
        int const low = hex_value(raw[i + 2]);
        if (high < 0 || low < 0)
            return std::nullopt;
        char const decoded = static_cast<char>(high * 16 + low);
        if (decoded == '\0')
            return std::nullopt;
        path += decoded;
        i += 2;
    }
    return path;
}

std::optional<fs::path> resolve_web_path(fs::path const& root, std::string_view path, bool* directory)
{
    if (path.empty() || path.front() != '/' || path.find('\\') != std::string_view::npos ||
        path.find('\0') != std::string_view::npos)
        return std::nullopt;

    // Walk the segments: "." and empty ones are skipped, ".." is refused outright (even when it
    // would stay inside the root) so there is only one rule to reason about, and so is any other
    // hidden name (/.env, /.git/config, /a/.hidden).
    fs::path relative;
    std::size_t start = 1;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        auto const segment = path.substr(start, end - start);
        if (segment == ".." || is_hidden(segment))
            return std::nullopt;
        if (!segment.empty() && segment != ".")
            relative /= fs::path(std::string(segment));
        start = end + 1;
    }

    std::error_code ec;
    fs::path candidate = root / relative;
    bool const is_directory = fs::is_directory(candidate, ec);
    if (is_directory)
        candidate /= "index.html";
    else if (path.back() == '/')
        return std::nullopt;  // "/app.js/" names a directory, and there is none
    if (directory != nullptr)
        *directory = is_directory;

    // canonical() resolves every symlink; a link that points outside the root fails this check.
    auto const resolved = fs::canonical(candidate, ec);
    if (ec || !is_within(root, resolved) || has_hidden_part(root, resolved) || !fs::is_regular_file(resolved, ec))
        return std::nullopt;
    return resolved;
}

std::string_view mime_type(fs::path const& file)
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> types{{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/vnd.microsoft.icon"},
        {".webp", "image/webp"},
        {".wasm", "application/wasm"},
    }};
    auto const extension = file.extension().string();
    for (auto const& [ext, type] : types)
        if (ext == extension)
            return type;
    return "application/octet-stream";
}

std::string entity_tag(std::uintmax_t size, std::int64_t modified_ns)
{
    std::array<char, 48> text{};
    auto const length =
        std::snprintf(text.data(), text.size(), "\"%jx-%jx\"", size, static_cast<std::uintmax_t>(modified_ns));
    return {text.data(), static_cast<std::size_t>(length)};
}

std::string http_date(std::time_t when)
{
    static constexpr std::array<char const*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<char const*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm utc{};
    if (::gmtime_r(&when, &utc) == nullptr)
        return {};
    std::array<char, 40> text{};
    auto const length = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                      days.at(static_cast<std::size_t>(utc.tm_wday)), utc.tm_mday,
                                      months.at(static_cast<std::size_t>(utc.tm_mon)), utc.tm_year + 1900, utc.tm_hour,
                                      utc.tm_min, utc.tm_sec);
    return {text.data(), static_cast<std::size_t>(length)};
}

bool not_modified(std::string_view if_none_match, std::string_view if_modified_since, std::string_view etag,
                  std::string_view last_modified)
{
    auto const opaque = [](std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; };
    auto const trim = [](std::string_view text) {
        auto const first = text.find_first_not_of(" \t");
        if (first == std::string_view::npos)
            return std::string_view{};
        return text.substr(first, text.find_last_not_of(" \t") - first + 1);
    };
    if (!trim(if_none_match).empty()) {
        // A list of entity tags, or "*". Tags are quoted and hold no comma (RFC 9110 8.8.3).
        for (std::string_view rest = if_none_match;;) {
            auto const comma = rest.find(',');
            auto const tag = trim(rest.substr(0, comma));
            if (tag == "*" || (!tag.empty() && opaque(tag) == opaque(etag)))
                return true;
            if (comma == std::string_view::npos)
                return false;
            rest.remove_prefix(comma + 1);
        }
    }
    return !if_modified_since.empty() && trim(if_modified_since) == last_modified;
}

}  // namespace coropush::net
