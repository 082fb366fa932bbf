// The logger's lines: one per event, whatever the message quotes.
#include "core/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace coropush {
namespace {

// A token's subject is the client's text: a newline in it must not start a line of its own (a
// forged "ERROR" line), nor a NUL or an escape sequence reach the log as it is.
TEST(logger, control_characters_in_a_message_are_escaped_and_an_event_stays_one_line)
{
    std::vector<std::string> lines;
    logger::set_sink([&](std::string_view line) { lines.emplace_back(line); });
    auto const level = logger::level();
    logger::set_level(log_level::info);
    log_info(7, "authenticated as ", std::string("bob\n2026-12-06T00:00:00Z error [-] fake\0\x1b[31m\x7f", 46), ", ok");
    logger::set_level(level);
    logger::set_sink(nullptr);

    ASSERT_EQ(lines.size(), 1u);
    auto const& line = lines.front();
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    EXPECT_NE(
        line.find("[session 7] authenticated as bob\\x0a2026-12-06T00:00:00Z error [-] fake\\x00\\x1b[31m\\x7f, ok\n"),
        std::string::npos)
        << line;
}

}  // namespace
}  // namespace coropush
