// The command line: every option parses, bad input is a clear error, and the docs list them all.
#include "server/command_line.hpp"
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace coropush {
namespace {
using namespace std::chrono_literals;

command_line parse(std::vector<std::string_view> const& args)
{
    return parse_command_line(args);
}

TEST(command_line, no_arguments_gives_the_documented_defaults)
{
    auto const c = parse({});
    ASSERT_EQ(c.what, command_line::action::run);
    EXPECT_EQ(c.options.address, "127.0.0.1");
    EXPECT_EQ(c.options.port, 1337);
    EXPECT_EQ(c.options.welcome_text, "欢迎你朋友！");
    EXPECT_EQ(c.options.notice_text, "朋友，既然来就多看看！");
    EXPECT_EQ(c.options.push_delay, 1s);
    EXPECT_EQ(c.options.max_message_bytes, 64u * 1024u);
}

TEST(command_line, values_in_both_spellings_and_with_units)
{
    auto const c = parse({"--port",
                          "0",
                          "--address=::1",
                          "--push-delay",
                          "250ms",
                          "--max-message=16m",
                          "--queue-bytes",
                          "64k",
                          "--ping-interval",
                          "0",
                          "--overflow",
                          "drop",
                          "--allow-origin",
                          "https://a.example",
                          "--allow-origin=*",
                          "--log-level",
                          "debug",
                          "--threads",
                          "4",
                          "--welcome",
                          "hi",
                          "--job-retention",
                          "2m"});
    ASSERT_EQ(c.what, command_line::action::run) << c.message;
    EXPECT_EQ(c.options.port, 0);
    EXPECT_EQ(c.options.address, "::1");
    EXPECT_EQ(c.options.push_delay, 250ms);
    EXPECT_EQ(c.options.max_message_bytes, 16u * 1024u * 1024u);
    EXPECT_EQ(c.options.max_queue_bytes, 64u * 1024u);
    EXPECT_EQ(c.options.ping_interval, 0s);
    EXPECT_EQ(c.options.on_overflow, overflow_policy::drop_newest);
    EXPECT_EQ(c.options.allowed_origins, (std::vector<std::string>{"https://a.example", "*"}));
    EXPECT_EQ(c.options.log, log_level::debug);
    EXPECT_EQ(c.options.threads, 4u);
    EXPECT_EQ(c.options.welcome_text, "hi");
    EXPECT_EQ(c.options.job_retention, 2min);
}

TEST(command_line, bad_input_is_an_error_that_says_what_is_wrong)
{
    struct bad {
        std::vector<std::string_view> args;
        std::string says;
    };
    for (auto const& b : std::vector<bad>{
             {{"--bogus"}, "unknown option '--bogus'"},
             {{"--port"}, "needs a value"},
             {{"--port", "65536"}, "--port"},
             {{"--port", "-1"}, "--port"},
             {{"--port", "12ab"}, "--port"},
             {{"--address", "localhost"}, "IPv4 or IPv6"},
             {{"--push-delay", "5"}, "duration"},
             {{"--push-delay", "1.5s"}, "duration"},
             {{"--ping-timeout", "0"}, "above 0"},
             {{"--max-message", "8"}, "size"},
             {{"--overflow", "sometimes"}, "close or drop"},
             {{"--log-level", "loud"}, "trace, debug"},
             {{"--backplane", "http://x"}, "redis://"},
             {{"--allow-origin", "https://a.example/"}, "write https://a.example"},
             {{"stray"}, "unexpected argument"},
         }) {
        auto const c = parse(b.args);
        EXPECT_EQ(c.what, command_line::action::error) << b.args.front();
        EXPECT_NE(c.message.find(b.says), std::string::npos) << c.message;
    }
}

TEST(command_line, options_come_from_the_environment_and_the_command_line_wins)
{
    std::map<std::string, std::string> const env{{"COROPUSH_BACKPLANE", "redis://cache:6380"},
                                                 {"COROPUSH_MAX_CONNECTIONS", "500"},
                                                 {"COROPUSH_PORT", "8000"},
                                                 {"UNRELATED", "x"}};
    auto const lookup = [&](std::string const& name) -> std::optional<std::string> {
        auto const it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    auto const c = parse_command_line({"--port", "9000"}, lookup);
    ASSERT_EQ(c.what, command_line::action::run) << c.message;
    EXPECT_EQ(c.options.backplane, "redis://cache:6380");
    EXPECT_EQ(c.options.max_connections, 500u);
    EXPECT_EQ(c.options.port, 9000) << "the command line wins";

    auto const bad = parse_command_line({}, [](std::string const& name) -> std::optional<std::string> {
        if (name == "COROPUSH_BACKPLANE")
            return "http://nope";
        return std::nullopt;
    });
    EXPECT_EQ(bad.what, command_line::action::error);
    EXPECT_NE(bad.message.find("COROPUSH_BACKPLANE"), std::string::npos) << bad.message;
    EXPECT_EQ(environment_name("max-connections"), "COROPUSH_MAX_CONNECTIONS");
}

// A file in the build's temporary directory holding `text`, removed with the object.
class key_file {
public:
    explicit key_file(std::string const& text)
        : path_(std::filesystem::temp_directory_path() /
                ("coropush-key-" + std::to_string(::getpid()) + "-" + std::to_string(++made_)))
    {
        std::ofstream(path_, std::ios::binary) << text;
    }
    ~key_file() { std::filesystem::remove(path_); }
    key_file(key_file const&) = delete;
    key_file& operator=(key_file const&) = delete;
    std::string path() const { return path_.string(); }

private:
    static inline int made_ = 0;
    std::filesystem::path path_;
};

constexpr char secret[] = "thirty-two bytes or more of secret";

TEST(command_line, auth_is_off_by_default_and_the_limits_have_their_documented_defaults)
{
    auto const c = parse({});
    ASSERT_EQ(c.what, command_line::action::run);
    EXPECT_EQ(c.options.auth, auth::auth_mode::off);
    EXPECT_EQ(c.options.auth_algorithm, auth::token_algorithm::hs256);
    EXPECT_EQ(c.options.auth_clock_skew, 30s);
    EXPECT_EQ(c.options.rate_messages, 100u);
    EXPECT_EQ(c.options.rate_burst, 200u);
    EXPECT_EQ(c.options.max_connections_per_ip, 0u);
}

TEST(command_line, auth_options_read_the_key_from_its_file_without_the_final_newline)
{
    key_file const key(std::string(secret) + "\n");
    auto const c = parse({"--auth",
                          "required",
                          "--auth-key-file",
                          key.path(),
                          "--auth-algorithm",
                          "hs256",
                          "--auth-issuer",
                          "https://login.example",
                          "--auth-audience",
                          "push",
                          "--auth-clock-skew",
                          "5s",
                          "--anonymous-subscribe",
                          "news.*",
                          "--anonymous-subscribe",
                          "status",
                          "--anonymous-publish",
                          "chat.*",
                          "--rate-messages",
                          "10",
                          "--rate-burst",
                          "20",
                          "--max-connections-per-ip",
                          "50"});
    ASSERT_EQ(c.what, command_line::action::run) << c.message;
    EXPECT_EQ(c.options.auth, auth::auth_mode::required);
    EXPECT_EQ(c.options.auth_key, secret);
    EXPECT_EQ(c.options.auth_issuer, "https://login.example");
    EXPECT_EQ(c.options.auth_audience, "push");
    EXPECT_EQ(c.options.auth_clock_skew, 5s);
    EXPECT_EQ(c.options.anonymous_subscribe, (std::vector<std::string>{"news.*", "status"}));
    EXPECT_EQ(c.options.anonymous_publish, (std::vector<std::string>{"chat.*"}));
    EXPECT_EQ(c.options.rate_messages, 10u);
    EXPECT_EQ(c.options.rate_burst, 20u);
    EXPECT_EQ(c.options.max_connections_per_ip, 50u);
}

TEST(command_line, the_key_may_come_from_COROPUSH_AUTH_KEY_and_a_key_file_wins)
{
    auto const lookup = [](std::string const& name) -> std::optional<std::string> {
        if (name == "COROPUSH_AUTH_KEY")
            return "the environment's secret, 32 bytes long";
        if (name == "COROPUSH_AUTH")
            return "optional";
        return std::nullopt;
    };
    auto const from_environment = parse_command_line({}, lookup);
    ASSERT_EQ(from_environment.what, command_line::action::run) << from_environment.message;
    EXPECT_EQ(from_environment.options.auth, auth::auth_mode::optional);
    EXPECT_EQ(from_environment.options.auth_key, "the environment's secret, 32 bytes long");

    key_file const key(secret);
    auto const from_file = parse_command_line({"--auth-key-file", key.path()}, lookup);
    ASSERT_EQ(from_file.what, command_line::action::run) << from_file.message;
    EXPECT_EQ(from_file.options.auth_key, secret);

    EXPECT_EQ(parse({"--auth-key", secret}).what, command_line::action::error) << "never on the command line";
}

TEST(command_line, auth_without_a_usable_key_is_an_error_that_says_what_to_do)
{
    key_file const short_secret("too short");
    key_file const private_key("-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n");
    struct bad {
        std::vector<std::string_view> args;
        std::string says;
    };
    auto const short_path = short_secret.path();
    auto const private_path = private_key.path();
    for (auto const& b : std::vector<bad>{
             {{"--auth", "required"}, "--auth-key-file FILE, or COROPUSH_AUTH_KEY"},
             {{"--auth", "optional", "--auth-key-file", "/nonexistent/key"}, "cannot read --auth-key-file"},
             {{"--auth", "required", "--auth-key-file", short_path}, "at least 32 bytes"},
             {{"--auth", "required", "--auth-algorithm", "rs256", "--auth-key-file", private_path}, "public key"},
             {{"--auth", "sometimes"}, "off, optional or required"},
             {{"--auth-algorithm", "none"}, "hs256, rs256 or es256"},
             {{"--anonymous-subscribe", "news?"}, "topic pattern"},
             {{"--max-topic-length", "4", "--anonymous-publish", "chat.*"}, "--max-topic-length"},
             {{"--rate-burst", "0"}, "--rate-burst"},
         }) {
        auto const c = parse(b.args);
        EXPECT_EQ(c.what, command_line::action::error) << b.args.front();
        EXPECT_NE(c.message.find(b.says), std::string::npos) << c.message;
    }
}

TEST(command_line, deflate_is_an_off_by_default_flag_that_takes_no_value_on_the_command_line)
{
    EXPECT_FALSE(parse({}).options.deflate);
    EXPECT_FALSE(parse({}).options.deflate_context_takeover);

    auto const on = parse({"--deflate", "--port", "0"});
    ASSERT_EQ(on.what, command_line::action::run) << on.message;
    EXPECT_TRUE(on.options.deflate);
    EXPECT_EQ(on.options.port, 0) << "the flag took no value";

    auto const both = parse({"--deflate-context-takeover", "--deflate=on"});
    ASSERT_EQ(both.what, command_line::action::run) << both.message;
    EXPECT_TRUE(both.options.deflate);
    EXPECT_TRUE(both.options.deflate_context_takeover);

    EXPECT_FALSE(parse({"--deflate", "--deflate=off"}).options.deflate);
    auto const bad = parse({"--deflate=maybe"});
    EXPECT_EQ(bad.what, command_line::action::error);
    EXPECT_NE(bad.message.find("expects on or off"), std::string::npos) << bad.message;
    auto const stray = parse({"--deflate", "yes"});
    EXPECT_EQ(stray.what, command_line::action::error) << "a flag does not take the next argument";
    auto const alone = parse({"--deflate-context-takeover"});
    EXPECT_EQ(alone.what, command_line::action::error);
    EXPECT_NE(alone.message.find("--deflate"), std::string::npos) << alone.message;

    auto const from_environment = parse_command_line({}, [](std::string const& name) -> std::optional<std::string> {
        if (name == "COROPUSH_DEFLATE")
            return "true";
        return std::nullopt;
    });
    ASSERT_EQ(from_environment.what, command_line::action::run) << from_environment.message;
    EXPECT_TRUE(from_environment.options.deflate);
    EXPECT_NE(help_text().find("  --deflate   "), std::string::npos) << "no value shown for a flag";
}

TEST(command_line, help_and_version)
{
    EXPECT_EQ(parse({"--help"}).what, command_line::action::help);
    EXPECT_EQ(parse({"--port", "1", "-h"}).what, command_line::action::help);
    EXPECT_EQ(parse({"--version"}).what, command_line::action::version);
    auto const help = help_text();
    for (auto const& name : option_names())
        EXPECT_NE(help.find(name), std::string::npos) << name;
    EXPECT_NE(help.find("[1337]"), std::string::npos) << "help shows defaults";
}

TEST(command_line, tls_takes_a_certificate_and_its_key_together)
{
    auto const both = parse({"--tls-cert", "cert.pem", "--tls-key", "key.pem"});
    ASSERT_EQ(both.what, command_line::action::run) << both.message;
    EXPECT_EQ(both.options.tls_cert_file, "cert.pem");
    EXPECT_EQ(both.options.tls_key_file, "key.pem");
    // The files are read when the server starts, not here: a bad one is a start-up error.
    for (auto const& one : {parse({"--tls-cert", "cert.pem"}), parse({"--tls-key", "key.pem"})}) {
        EXPECT_EQ(one.what, command_line::action::error);
        EXPECT_NE(one.message.find("--tls-cert and --tls-key go together"), std::string::npos) << one.message;
    }
}

TEST(command_line, durations_and_sizes)
{
    EXPECT_EQ(parse_duration("0"), 0ms);
    EXPECT_EQ(parse_duration("15ms"), 15ms);
    EXPECT_EQ(parse_duration("3s"), 3s);
    EXPECT_EQ(parse_duration("2m"), 2min);
    EXPECT_EQ(parse_duration("1h"), 1h);
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("10"));
    EXPECT_FALSE(parse_duration("10 s"));
    EXPECT_FALSE(parse_duration("9999999999s"));
    EXPECT_EQ(parse_size("100"), 100u);
    EXPECT_EQ(parse_size("2k"), 2048u);
    EXPECT_EQ(parse_size("3M"), 3u * 1024u * 1024u);
    EXPECT_FALSE(parse_size("k"));
    EXPECT_FALSE(parse_size("-1"));
    EXPECT_FALSE(parse_size("99999999999999999999"));
}

// Looks names up in a fixed map, as the environment would.
environment_lookup environment_of(std::map<std::string, std::string> env)
{
    return [env = std::move(env)](std::string const& name) -> std::optional<std::string> {
        auto const it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

TEST(command_line, durations_past_a_day_are_refused_not_wrapped_around)
{
    for (auto const* value : {"9999999h", "999999999h", "25h", "1441m", "86401s", "86400001ms"}) {
        auto const c = parse({"--handshake-timeout", value});
        EXPECT_EQ(c.what, command_line::action::error) << value << " became " << c.options.handshake_timeout.count();
        EXPECT_NE(c.message.find("bad value '" + std::string(value) + "' for --handshake-timeout"), std::string::npos)
            << c.message;
        EXPECT_NE(c.message.find("up to 24h"), std::string::npos) << c.message;
    }
    auto const from_env = parse_command_line({}, environment_of({{"COROPUSH_PING_INTERVAL", "9999999h"}}));
    EXPECT_EQ(from_env.what, command_line::action::error);
    EXPECT_NE(from_env.message.find("bad value '9999999h' for COROPUSH_PING_INTERVAL"), std::string::npos)
        << from_env.message;

    auto const longest = parse({"--handshake-timeout", "24h", "--job-retention=1440m", "--push-delay", "0"});
    ASSERT_EQ(longest.what, command_line::action::run) << longest.message;
    EXPECT_EQ(longest.options.handshake_timeout, 24h);
    EXPECT_EQ(longest.options.job_retention, 24h);
    EXPECT_FALSE(parse_duration("999999999h")) << "does not fit the clock's type";
    EXPECT_EQ(parse_duration("999999999ms"), 999999999ms);
}

TEST(command_line, sizes_out_of_range_are_refused_on_the_command_line_and_in_the_environment)
{
    for (auto const* value : {"65m", "99999999999999999999", "17179869184k", "-1"}) {
        auto const c = parse({"--max-message", value});
        EXPECT_EQ(c.what, command_line::action::error) << value;
        EXPECT_NE(c.message.find("expects a size from 16 to 64m"), std::string::npos) << c.message;
        auto const e = parse_command_line({}, environment_of({{"COROPUSH_MAX_MESSAGE", value}}));
        EXPECT_EQ(e.what, command_line::action::error) << value;
        EXPECT_NE(e.message.find("for COROPUSH_MAX_MESSAGE: expects a size from 16 to 64m"), std::string::npos)
            << e.message;
    }
}

class token_file : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir_ = std::filesystem::temp_directory_path() / ("coropush-token-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(std::string const& name, std::string const& content)
    {
        std::ofstream(dir_ / name, std::ios::binary) << content;
        return (dir_ / name).string();
    }

    std::filesystem::path dir_;
};

TEST_F(token_file, the_admin_token_is_read_from_a_file_without_its_trailing_newline)
{
    auto const c = parse({"--admin-token-file", write("token", "s3cret\n")});
    ASSERT_EQ(c.what, command_line::action::run) << c.message;
    EXPECT_EQ(c.options.admin_token, "s3cret");

    auto const crlf = parse({"--admin-token-file=" + write("crlf", "s3cret\r\n")});
    EXPECT_EQ(crlf.options.admin_token, "s3cret");

    auto const from_env = parse_command_line({}, environment_of({{"COROPUSH_ADMIN_TOKEN_FILE", write("env", "e")}}));
    ASSERT_EQ(from_env.what, command_line::action::run) << from_env.message;
    EXPECT_EQ(from_env.options.admin_token, "e");
}

TEST_F(token_file, an_empty_missing_or_oversized_token_file_is_an_error)
{
    struct bad {
        std::string path;
        std::string says;
    };
    for (auto const& b : std::vector<bad>{
             {write("empty", ""), "the file is empty"},
             {write("newline", "\n"), "the file is empty"},
             {(dir_ / "missing").string(), "cannot read the file"},
             {dir_.string(), "is a directory"},
             {write("big", std::string(5000, 'x')), "the file is larger than 4k"},
         }) {
        auto const c = parse({"--admin-token-file", b.path});
        EXPECT_EQ(c.what, command_line::action::error) << b.path;
        EXPECT_NE(c.message.find("for --admin-token-file: " + b.says), std::string::npos) << c.message;
    }
}

TEST_F(token_file, the_api_key_comes_from_a_file_or_the_environment_never_a_command_line_value)
{
    auto const from_file = parse({"--api-key-file", write("key", "k3y\n")});
    ASSERT_EQ(from_file.what, command_line::action::run) << from_file.message;
    EXPECT_EQ(from_file.options.api_key, "k3y");

    auto const from_env = parse_command_line({}, environment_of({{"COROPUSH_API_KEY", "env-key"}}));
    ASSERT_EQ(from_env.what, command_line::action::run) << from_env.message;
    EXPECT_EQ(from_env.options.api_key, "env-key");

    auto const file_wins = parse_command_line({"--api-key-file", write("wins", "file-key")},
                                              environment_of({{"COROPUSH_API_KEY", "env"}}));
    EXPECT_EQ(file_wins.options.api_key, "file-key");

    auto const on_the_command_line = parse({"--api-key", "k3y"});
    EXPECT_EQ(on_the_command_line.what, command_line::action::error);
    EXPECT_NE(on_the_command_line.message.find("unknown option '--api-key'"), std::string::npos);

    auto const empty = parse_command_line({}, environment_of({{"COROPUSH_API_KEY", ""}}));
    EXPECT_EQ(empty.what, command_line::action::error);
    EXPECT_NE(empty.message.find("COROPUSH_API_KEY is set but empty"), std::string::npos) << empty.message;
}

TEST(command_line, the_options_reference_lists_every_option)
{
    std::ifstream file(testing::source_directory() / "docs" / "options.md");
    ASSERT_TRUE(file) << "docs/options.md is missing";
    std::stringstream text;
    text << file.rdbuf();
    for (auto const& name : option_names())
        EXPECT_NE(text.str().find("`" + name), std::string::npos) << name << " is not documented in docs/options.md";
}

}  // namespace
}  // namespace coropush
