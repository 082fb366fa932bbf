// The docs cannot drift from the code: every line of C++ that README.md and docs/walkthrough.md
// quote (```cpp blocks) appears in src/ or examples/, and every path the docs name exists (a path
// in backticks from the repository's root, a link relative to its document). Whitespace is not
// compared: a quoted line may be wrapped or indented differently.
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace coropush {
namespace {

namespace fs = std::filesystem;

std::string read_text(fs::path const& file)
{
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string without_spaces(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char const c : text)
        if (std::isspace(static_cast<unsigned char>(c)) == 0)
            out.push_back(c);
    return out;
}

std::string trimmed(std::string_view text)
{
    auto const first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    auto const last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

// Every C++ source and header under the folders the docs quote from, whitespace removed.
std::string all_code()
{
    std::string code;
    for (char const* folder : {"src", "examples"}) {
        auto const root = testing::source_directory() / folder;
        if (!fs::exists(root))
            continue;
        for (auto const& entry : fs::recursive_directory_iterator(root)) {
            auto const ext = entry.path().extension();
            if (entry.is_regular_file() && (ext == ".cpp" || ext == ".hpp"))
                code += without_spaces(read_text(entry.path()));
        }
    }
    return code;
}

// The lines of the document's ```cpp blocks that state code: not blank, not a comment, not an
// elision.
std::vector<std::string> quoted_cpp_lines(std::string const& doc)
{
    std::vector<std::string> lines;
    std::istringstream in(doc);
    std::string line;
    bool in_block = false;
    while (std::getline(in, line)) {
        if (trimmed(line).starts_with("```")) {
            in_block = !in_block && trimmed(line) == "```cpp";
            continue;
        }
        auto const l = trimmed(line);
        if (!in_block || l.empty() || l.starts_with("//") || l == "{" || l == "}" || l == "};" ||
            l.find("...") != std::string::npos)
            continue;
        lines.push_back(l);
    }
    return lines;
}

// What the document names as a path: spans in backticks that start at a top folder of the
// repository (no spaces, no wildcards or placeholders), and the targets of relative links.
struct named_path {
    std::string as_written;
    fs::path resolved;
};

std::vector<named_path> named_paths(fs::path const& doc_file, std::string const& doc)
{
    static constexpr std::string_view roots[] = {"src/",     "tests/",    "web/",   "docs/",    "bench/",
                                                 "scripts/", "examples/", "cmake/", ".github/", ".ci/"};
    auto const repo = testing::source_directory();
    std::vector<named_path> paths;
    auto const keep = [](std::string path) {
        path = path.substr(0, path.find('#'));
        // `file.cpp:120` or `:120-140` names lines of a file; `a.hpp/.cpp` names two files.
        if (auto const colon = path.rfind(':');
            colon != std::string::npos && path.find_first_not_of("0123456789-", colon + 1) == std::string::npos)
            path.resize(colon);
        if (auto const slash_dot = path.rfind("/."); slash_dot != std::string::npos &&
                                                     path.find('/', slash_dot + 1) == std::string::npos &&
                                                     slash_dot + 2 < path.size())
            path.resize(slash_dot);
        if (path.empty() || path.find_first_of("*<{ ") != std::string::npos || path.find("://") != std::string::npos)
            return std::string();
        return path;
    };
    bool in_block = false;
    std::istringstream in(doc);
    std::string line;
    while (std::getline(in, line)) {
        if (trimmed(line).starts_with("```")) {
            in_block = !in_block;
            continue;
        }
        if (in_block)
            continue;
        for (std::size_t at = 0; (at = line.find('`', at)) != std::string::npos;) {
            auto const end = line.find('`', at + 1);
            if (end == std::string::npos)
                break;
            auto const path = keep(line.substr(at + 1, end - at - 1));
            // From the repository's root; in a folder's own README, from that folder when it is there.
            if (std::any_of(std::begin(roots), std::end(roots), [&](auto root) { return path.starts_with(root); })) {
                auto const local = doc_file.parent_path() / path;
                paths.push_back({path, fs::exists(local) ? local : repo / path});
            }
            at = end + 1;
        }
        for (std::size_t at = 0; (at = line.find("](", at)) != std::string::npos;) {
            auto const end = line.find(')', at + 2);
            if (end == std::string::npos)
                break;
            auto const path = keep(line.substr(at + 2, end - at - 2));
            if (!path.empty() && !path.starts_with("mailto:"))
                paths.push_back({path, (doc_file.parent_path() / path).lexically_normal()});
            at = end + 1;
        }
    }
    return paths;
}

std::vector<fs::path> documents()
{
    auto const repo = testing::source_directory();
    std::vector<fs::path> docs{repo / "README.md", repo / "bench" / "README.md"};
    for (char const* folder : {"docs", "examples"})
        for (auto const& entry : fs::recursive_directory_iterator(repo / folder))
            if (entry.is_regular_file() && entry.path().extension() == ".md" &&
                entry.path().string().find("node_modules") == std::string::npos)
                docs.push_back(entry.path());
    if (fs::exists(repo / "CONTRIBUTING.md"))
        docs.push_back(repo / "CONTRIBUTING.md");
    return docs;
}

TEST(docs_drift, every_cpp_line_the_readme_and_the_walkthrough_quote_is_in_the_sources)
{
    auto const code = all_code();
    ASSERT_GT(code.size(), 100'000u) << "the sources were not found";
    std::size_t checked = 0;
    for (char const* name : {"README.md", "docs/walkthrough.md"}) {
        auto const file = testing::source_directory() / name;
        if (!fs::exists(file)) {
            ADD_FAILURE() << name << " is missing";
            continue;
        }
        for (auto const& line : quoted_cpp_lines(read_text(file))) {
            ++checked;
            EXPECT_NE(code.find(without_spaces(line)), std::string::npos)
                << name << " quotes a line that is in no file under src/ or examples/: " << line;
        }
    }
    EXPECT_GE(checked, 10u) << "the walkthrough quotes (almost) no code: the check checks nothing";
}

TEST(docs_drift, every_path_the_docs_name_exists)
{
    std::size_t checked = 0;
    for (auto const& doc : documents()) {
        for (auto const& path : named_paths(doc, read_text(doc))) {
            ++checked;
            EXPECT_TRUE(fs::exists(path.resolved)) << doc.lexically_relative(testing::source_directory()).string()
                                                   << " names a path that does not exist: " << path.as_written;
        }
    }
    EXPECT_GE(checked, 50u) << "the docs name (almost) no paths: the check checks nothing";
}

// The checks themselves: a line or a path that is not there is caught.
TEST(docs_drift, the_checks_catch_a_made_up_line_and_a_made_up_path)
{
    auto const lines = quoted_cpp_lines("text\n```cpp\n// a comment\nco_await nothing_like_this(ws);\n```\n");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(all_code().find(without_spaces(lines[0])), std::string::npos);

    auto const doc = testing::source_directory() / "README.md";
    auto const paths = named_paths(doc, "see `src/net/no_such_file.cpp:12` and [this](docs/none.md#x), not `--flag`\n");
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0].as_written, "src/net/no_such_file.cpp");
    EXPECT_EQ(paths[1].as_written, "docs/none.md");
    EXPECT_FALSE(fs::exists(paths[0].resolved));
    EXPECT_FALSE(fs::exists(paths[1].resolved));
}

}  // namespace
}  // namespace coropush
