// The envelope codec: every message type round-trips, every class of bad input gets its code.
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace coropush::protocol {
namespace {

// encode writes the fields itself; the reference is Boost.JSON's serialization of to_data's object,
// the same fields as a JSON object, placed in the envelope.
template <class Message>
std::string encoded_through_json_object(Message const& message, request_id id)
{
    std::string text = R"({"type":")" + std::string(Message::type) + '"';
    if (id)
        text += ",\"id\":" + std::to_string(*id);
    return text + ",\"data\":" + boost::json::serialize(to_data(message)) + '}';
}

template <class Message>
void expect_round_trip(Message const& original, request_id id)
{
    auto const text = encode(original, id);
    EXPECT_EQ(text, encoded_through_json_object(original, id));
    auto const envelope = parse_envelope(text);
    ASSERT_TRUE(envelope) << text;
    EXPECT_EQ(envelope->type, Message::type);
    EXPECT_EQ(envelope->id, id);
    auto decoded = data_as<Message>(*envelope);
    ASSERT_TRUE(std::holds_alternative<Message>(decoded)) << std::get<std::string>(decoded);
    EXPECT_EQ(encode(std::get<Message>(decoded), id), text);
}

// A client's fractions come back as it would write them, not as Boost.JSON does (101.5 was
// 1.015E2): the shortest text that reads back as the same double, and never as an integer.
TEST(codec, fractions_in_data_come_back_in_their_shortest_form_and_read_back_the_same)
{
    for (auto const& [sent, written] : std::initializer_list<std::pair<char const*, char const*>>{
             {"101.5", "101.5"},
             {"0.1", "0.1"},
             {"-2.5", "-2.5"},
             {"1e3", "1000.0"},
             {"1E3", "1000.0"},
             {"-0.0", "-0.0"},
             {"1e21", "1e+21"},
             {"1.5e-7", "1.5e-07"},
             {"5e-324", "5e-324"},
             {"1.7976931348623157e308", "1.7976931348623157e+308"},
             {"123456789012345678901234567890", "1.2345678901234568e+29"}}) {
        auto const data = boost::json::parse(std::string(R"({"n":)") + sent + R"(,"list":[)" + sent + "]}");
        auto const text = encode(message{"prices", std::nullopt, data}, std::nullopt);
        EXPECT_EQ(text, std::string(R"({"type":"message","data":{"topic":"prices","data":{"n":)") + written +
                            R"(,"list":[)" + written + "]}}}")
            << sent;
        auto const back = boost::json::parse(text).at("data").at("data");
        EXPECT_TRUE(back.at("n").is_double()) << sent;
        EXPECT_EQ(back, data) << sent << ": the same value";
    }
    auto const integers = boost::json::parse(R"({"a":12345678901234567890,"b":-9223372036854775808,"c":0})");
    EXPECT_EQ(
        encode(message{"t", std::nullopt, integers}, std::nullopt),
        R"({"type":"message","data":{"topic":"t","data":{"a":12345678901234567890,"b":-9223372036854775808,"c":0}}})")
        << "integers as written";
}

TEST(codec, every_message_type_round_trips)
{
    expect_round_trip(hello{"亲爱的服务器！我连上你啦！"}, 1);
    expect_round_trip(welcome{"欢迎你朋友！"}, 1);
    expect_round_trip(notice{"朋友，既然来就多看看！"}, std::nullopt);
    expect_round_trip(echo{"quote \" backslash \\ emoji 😀"}, 18446744073709551615ull);
    expect_round_trip(error{"bad_data", "data.text is missing"}, 3);
    expect_round_trip(subscribe{"news"}, 4);
    expect_round_trip(subscribed{"news"}, 4);
    expect_round_trip(unsubscribe{"news"}, 5);
    expect_round_trip(unsubscribed{"news"}, 5);
    expect_round_trip(publish{"news", "hi"}, 6);
    expect_round_trip(message{"news", "hi"}, std::nullopt);
    expect_round_trip(publish{"news", std::nullopt, boost::json::parse(R"({"price":35,"tags":["a"],"ok":true})")}, 6);
    expect_round_trip(message{"news", "both", boost::json::value("a string is JSON too")}, std::nullopt);
    expect_round_trip(message{"news", std::nullopt, boost::json::parse("[1,2,3]")}, std::nullopt);
    expect_round_trip(published{"news", 12}, 6);
    expect_round_trip(job_start{"sample", 5, 100, "label", std::nullopt}, 7);
    expect_round_trip(job_start{"sample", 5, 100, "label", "4f1d0c2e-9b7a-4e3c-8d6b-2a4e7c91f08b"}, 7);
    expect_round_trip(job_start{}, 7);
    expect_round_trip(job_started{"abc", "sample", 5, ""}, 7);
    expect_round_trip(job_progress{"abc", 3, 60, "step 3 of 5"}, std::nullopt);
    expect_round_trip(job_done{"abc", 6, "ok"}, std::nullopt);
    expect_round_trip(job_failed{"abc", 6, "cancelled"}, std::nullopt);
    expect_round_trip(job_cancel{"abc"}, 8);
    expect_round_trip(job_cancelling{"abc"}, 8);
    expect_round_trip(job_resume{"abc", 2}, 9);
    expect_round_trip(job_resumed{"abc", 6, false}, 9);
    expect_round_trip(job_resumed{"abc", 6, true}, 9);
}

TEST(codec, encode_writes_type_then_id_then_data)
{
    EXPECT_EQ(encode(subscribed{"news"}, 3), R"({"type":"subscribed","id":3,"data":{"topic":"news"}})");
    EXPECT_EQ(encode(message{"news", "hi"}), R"({"type":"message","data":{"topic":"news","text":"hi"}})");
}

// The envelope is written into a buffer on the stack and moves to the heap when it outgrows it
// (1 KiB): every length across that edge, with characters that are escaped on the way, comes out
// whole and in order.
TEST(codec, envelopes_of_every_length_around_the_stack_buffer_come_out_whole_returned_or_lent)
{
    std::string const prefix = R"({"type":"echo","id":42,"data":{"text":")";
    for (std::size_t length = 900; length <= 2200; ++length) {
        std::string text;
        std::string escaped;
        for (std::size_t i = 0; i < length; ++i) {
            char const c = i % 97 == 5 ? '"' : static_cast<char>('a' + i % 26);
            text += c;
            escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
        }
        EXPECT_EQ(encode(echo{text}, 42), prefix + escaped + R"("}})") << "text of " << length << " bytes";
        // The same text lent from the writer's buffer (a reply's path: encode_to, finish_view).
        std::string lent;
        encode_to(echo{text}, 42, [&](std::string_view view) { lent = view; });
        EXPECT_EQ(lent, prefix + escaped + R"("}})") << "lent text of " << length << " bytes";
    }
}

TEST(codec, absent_optional_fields_are_left_out)
{
    EXPECT_EQ(encode(job_start{std::nullopt, 3, std::nullopt, std::nullopt, std::nullopt}),
              R"({"type":"job_start","data":{"steps":3}})");
}

TEST(codec, every_request_type_decodes_to_its_struct)
{
    auto check = [](std::string_view text, auto expected) {
        auto result = decode_request(text);
        ASSERT_TRUE(std::holds_alternative<inbound>(result)) << text << ": " << std::get<decode_error>(result).message;
        auto const& in = std::get<inbound>(result);
        using type = decltype(expected);
        ASSERT_TRUE(std::holds_alternative<type>(in.body)) << text;
        EXPECT_EQ(encode(std::get<type>(in.body)), encode(expected));
    };
    check(R"({"type":"hello","id":1,"data":{"text":"hi"}})", hello{"hi"});
    check(R"({"type":"echo","data":{"text":"x"}})", echo{"x"});
    check(R"({"type":"subscribe","id":2,"data":{"topic":"t"}})", subscribe{"t"});
    check(R"({"type":"unsubscribe","id":2,"data":{"topic":"t"}})", unsubscribe{"t"});
    check(R"({"type":"publish","id":2,"data":{"topic":"t","text":"s"}})", publish{"t", "s"});
    check(R"({"type":"job_start","id":2})", job_start{});
    check(R"({"type":"job_start","id":2,"data":{"steps":4,"step_ms":null,"kind":"sample"}})",
          job_start{"sample", 4, std::nullopt, std::nullopt, std::nullopt});
    check(R"({"type":"job_cancel","data":{"job":"j"}})", job_cancel{"j"});
    check(R"({"type":"job_resume","data":{"job":"j","after_seq":3}})", job_resume{"j", 3});
}

TEST(codec, decoding_keeps_the_id_and_ignores_unknown_fields)
{
    auto result = decode_request(R"({"data":{"text":"x","extra":[1,2]},"type":"echo","id":99,"more":true})");
    ASSERT_TRUE(std::holds_alternative<inbound>(result));
    EXPECT_EQ(std::get<inbound>(result).id, 99u);
}

struct bad_case {
    char const* text;
    errc code;
    request_id id;
};

class codec_bad_input : public ::testing::TestWithParam<bad_case> {};

TEST_P(codec_bad_input, gets_its_stable_code_and_the_id_where_readable)
{
    auto const& c = GetParam();
    auto result = decode_request(c.text);
    ASSERT_TRUE(std::holds_alternative<decode_error>(result)) << c.text;
    auto const& e = std::get<decode_error>(result);
    EXPECT_EQ(e.code, c.code) << c.text << " -> " << to_string(e.code) << ": " << e.message;
    EXPECT_EQ(e.id, c.id) << c.text;
    EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    every_class, codec_bad_input,
    ::testing::Values(bad_case{"not json", errc::invalid_json, {}}, bad_case{"", errc::invalid_json, {}},
                      bad_case{R"({"type":"echo")", errc::invalid_json, {}}, bad_case{"[1,2,3]", errc::not_object, {}},
                      bad_case{"\"hello\"", errc::not_object, {}}, bad_case{"42", errc::not_object, {}},
                      bad_case{"null", errc::not_object, {}}, bad_case{R"({"id":5})", errc::missing_type, 5},
                      bad_case{R"({"type":7,"id":5})", errc::missing_type, 5},
                      bad_case{R"({"type":"nope","id":5})", errc::unknown_type, 5},
                      bad_case{R"({"type":"welcome","id":5})", errc::unknown_type, 5},
                      bad_case{R"({"type":"echo","id":-1,"data":{"text":"x"}})", errc::bad_id, {}},
                      bad_case{R"({"type":"echo","id":1.5,"data":{"text":"x"}})", errc::bad_id, {}},
                      bad_case{R"({"type":"echo","id":"7","data":{"text":"x"}})", errc::bad_id, {}},
                      bad_case{R"({"type":"echo","id":18446744073709551616,"data":{"text":"x"}})", errc::bad_id, {}},
                      bad_case{R"({"type":"echo","id":null})", errc::bad_id, {}},
                      bad_case{R"({"type":"echo","id":3,"data":[]})", errc::bad_data, 3},
                      bad_case{R"({"type":"echo","id":3,"data":"x"})", errc::bad_data, 3},
                      bad_case{R"({"type":"echo","id":3})", errc::bad_data, 3},
                      bad_case{R"({"type":"echo","id":3,"data":{}})", errc::bad_data, 3},
                      bad_case{R"({"type":"echo","id":3,"data":{"text":5}})", errc::bad_data, 3},
                      bad_case{R"({"type":"publish","id":3,"data":{"text":"no topic"}})", errc::bad_data, 3},
                      bad_case{R"({"type":"job_start","id":3,"data":{"steps":-2}})", errc::bad_data, 3},
                      bad_case{R"({"type":"job_start","id":3,"data":{"steps":4294967296}})", errc::bad_data, 3},
                      bad_case{R"({"type":"job_resume","id":3,"data":{"job":"j","after_seq":"1"}})", errc::bad_data, 3},
                      // Integers are written as integers, as the ids are: not 2.0, not 1e3.
                      bad_case{R"({"type":"job_start","id":3,"data":{"steps":2.0}})", errc::bad_data, 3},
                      bad_case{R"({"type":"job_start","id":3,"data":{"steps":2,"step_ms":1e3}})", errc::bad_data, 3},
                      bad_case{R"({"type":"job_resume","id":3,"data":{"job":"j","after_seq":2.0}})", errc::bad_data,
                               3}),
    [](::testing::TestParamInfo<bad_case> const& param) {
        return std::string(to_string(param.param.code)) + "_" + std::to_string(param.index);
    });

TEST(codec, bad_data_messages_name_the_field)
{
    auto e = std::get<decode_error>(decode_request(R"({"type":"echo","data":{"text":5}})"));
    EXPECT_EQ(e.message, "data.text must be a string");
    e = std::get<decode_error>(decode_request(R"({"type":"publish","data":{"text":"t"}})"));
    EXPECT_EQ(e.message, "data.topic is missing");
    e = std::get<decode_error>(decode_request(R"({"type":"job_start","data":{"steps":2.0}})"));
    EXPECT_EQ(e.message, "data.steps must be an unsigned 32-bit integer");
}

TEST(codec, error_envelopes_have_the_documented_shape)
{
    EXPECT_EQ(encode_error(4, errc::unknown_type, "unknown type \"x\""),
              R"({"type":"error","id":4,"data":{"code":"unknown_type","message":"unknown type \"x\""}})");
    EXPECT_EQ(encode_error({}, errc::invalid_json, "m"),
              R"({"type":"error","data":{"code":"invalid_json","message":"m"}})");
}

TEST(codec, an_unknown_type_is_quoted_cut_between_characters)
{
    // 63 bytes of 'a', then the two bytes of 'é': a cut at 64 bytes would leave a lone 0xC3.
    std::string const type = std::string(63, 'a') + "\xC3\xA9";
    auto const result = decode_request(R"({"type":")" + type + R"(","id":7})");
    ASSERT_TRUE(std::holds_alternative<decode_error>(result));
    auto const& e = std::get<decode_error>(result);
    EXPECT_EQ(e.code, errc::unknown_type);
    EXPECT_EQ(e.message, "unknown type \"" + std::string(63, 'a') + "...\"");
    boost::system::error_code ec;
    boost::json::parse(encode_error(e.id, e.code, e.message), ec);  // Boost.JSON refuses text that is not UTF-8
    EXPECT_FALSE(ec) << ec.message();
}

TEST(codec, utf8_prefix_never_splits_a_character_and_always_gives_utf8)
{
    EXPECT_EQ(utf8_prefix("abc", 2), "ab");
    EXPECT_EQ(utf8_prefix("abc", 64), "abc");
    EXPECT_EQ(utf8_prefix("a\xC3\xA9", 2), "a") << "e-acute does not fit whole";
    EXPECT_EQ(utf8_prefix("a\xC3\xA9", 3), "a\xC3\xA9");
    EXPECT_EQ(utf8_prefix("\xF0\x9F\x98\x80!", 3), "") << "a four-byte emoji is kept whole or not at all";
    EXPECT_EQ(utf8_prefix("\xF0\x9F\x98\x80!", 5), "\xF0\x9F\x98\x80!");
    // What is not UTF-8 (a lone lead or continuation byte, an overlong form, a surrogate, past
    // U+10FFFF) comes out as U+FFFD, one per byte, so the result is UTF-8 whatever came in.
    std::string const replacement = "\xEF\xBF\xBD";
    EXPECT_EQ(utf8_prefix("ab\xC3", 64), "ab" + replacement);
    EXPECT_EQ(utf8_prefix("\x80x", 64), replacement + "x");
    EXPECT_EQ(utf8_prefix("\xC0\x80", 64), replacement + replacement);
    EXPECT_EQ(utf8_prefix("\xED\xA0\x80", 64), replacement + replacement + replacement);
    EXPECT_EQ(utf8_prefix("\xF4\x90\x80\x80", 1), replacement);
    EXPECT_EQ(utf8_prefix("\xFF", 64), replacement);
}

// JSON has no infinity: a number too large for a double (which Boost.JSON reads as infinity, and
// would write out as no JSON parser reads it) makes the message invalid JSON, wherever it is; the
// largest finite double is still a number.
TEST(codec, a_number_too_large_for_a_double_is_invalid_json_at_any_depth)
{
    for (std::string_view const text : {R"({"type":"publish","id":2,"data":{"topic":"x","data":1e999}})",
                                        R"({"type":"publish","id":2,"data":{"topic":"x","data":{"a":[1,[2,-1e400]]}}})",
                                        R"({"type":"echo","id":2,"data":{"text":"x"},"extra":123456789e999})"}) {
        auto const result = decode_request(text);
        ASSERT_TRUE(std::holds_alternative<decode_error>(result)) << text;
        auto const& e = std::get<decode_error>(result);
        EXPECT_EQ(e.code, errc::invalid_json) << text;
        EXPECT_NE(e.message.find("infinity"), std::string::npos) << e.message;
    }
    auto const largest =
        decode_request(R"({"type":"publish","id":2,"data":{"topic":"x","data":1.7976931348623157e308}})");
    EXPECT_FALSE(std::holds_alternative<decode_error>(largest));
}

TEST(codec, deeply_nested_json_is_refused_not_recursed_into)
{
    std::string deep(100000, '[');
    auto result = decode_request(deep);
    ASSERT_TRUE(std::holds_alternative<decode_error>(result));
    EXPECT_EQ(std::get<decode_error>(result).code, errc::invalid_json);
}

}  // namespace
}  // namespace coropush::protocol
