// Envelope decoding (with a stable error code per class of bad input) and encoding.
#include "protocol/codec.hpp"

#include "core/json_numbers.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serializer.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <charconv>
#include <cstring>
#include <utility>

namespace coropush::protocol {
namespace json = boost::json;

namespace {

// An id must be a JSON integer in [0, 2^64). Boost.JSON stores those as uint64 or (when they fit)
// int64; anything else (negative, fractional, 1e3, a string) is rejected.
std::optional<std::uint64_t> read_id(json::value const& v)
{
    if (v.is_uint64())
        return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0)
        return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
}

// The length of the well-formed UTF-8 sequence that `text` starts with (Unicode's table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when it starts with none.
std::size_t utf8_sequence_length(std::string_view text)
{
    auto const byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char const lead = byte(0);
    if (lead < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char second_low = 0x80;  // the second byte's range depends on the lead byte
    unsigned char second_high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        second_low = lead == 0xE0 ? 0xA0 : 0x80;   // below: overlong
        second_high = lead == 0xED ? 0x9F : 0xBF;  // above: a UTF-16 surrogate
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        second_low = lead == 0xF0 ? 0x90 : 0x80;   // below: overlong
        second_high = lead == 0xF4 ? 0x8F : 0xBF;  // above: past U+10FFFF
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < second_low || byte(1) > second_high)
        return 0;
    for (std::size_t i = 2; i < length; ++i)
        if (byte(i) < 0x80 || byte(i) > 0xBF)
            return 0;
    return length;
}

// Quotes `text` for an error message, cut to a readable length.
std::string quoted(std::string_view text)
{
    constexpr std::size_t max_shown = 64;
    std::string out = "\"";
    out += utf8_prefix(text, max_shown);
    if (text.size() > max_shown)
        out += "...";
    out += '"';
    return out;
}

template <class Message>
decode_result decode_as(json::object const& data, request_id id)
{
    Message message;
    if (auto failure = from_data(data, message))
        return decode_error{id, errc::bad_data, std::move(*failure)};
    return inbound{id, request(std::move(message))};
}

// Finds the request alternative whose wire name is `type` and decodes `data` into it.
decode_result decode_body(std::string_view type, json::object const& data, request_id id)
{
    std::optional<decode_result> result;
    boost::mp11::mp_for_each<boost::mp11::mp_rename<request, boost::mp11::mp_list>>([&](auto alternative) {
        using message_type = decltype(alternative);
        if (!result && type == message_type::type)
            result = decode_as<message_type>(data, id);
    });
    if (!result)
        return decode_error{id, errc::unknown_type, "unknown type " + quoted(type)};
    return std::move(*result);
}

}  // namespace

std::string utf8_prefix(std::string_view text, std::size_t max_bytes)
{
    constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD, for a byte that is not UTF-8
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        auto const length = utf8_sequence_length(text.substr(at));
        auto const taken = length == 0 ? 1 : length;
        if (at + taken > max_bytes)
            break;  // a character that does not fit whole is left out, never split
        if (length == 0)
            out += replacement;
        else
            out.append(text.substr(at, length));
        at += taken;
    }
    return out;
}

decode_result decode_request(std::string_view text)
{
    // Small requests parse without touching the heap: the DOM lives in this stack buffer.
    std::array<unsigned char, 4096> scratch;
    json::monotonic_resource arena(scratch.data(), scratch.size());

    boost::system::error_code ec;
    json::value const document = json::parse(text, ec, &arena);
    if (ec)
        return decode_error{{}, errc::invalid_json, "not valid JSON: " + ec.message()};
    if (!finite_numbers_only(document))
        return decode_error{{}, errc::invalid_json, std::string("not valid JSON: ") + non_finite_number_reason};

    auto const* object = document.if_object();
    if (!object)
        return decode_error{{}, errc::not_object, "a message must be a JSON object"};

    request_id id;
    if (auto const found = object->find("id"); found != object->end()) {
        id = read_id(found->value());
        if (!id)
            return decode_error{{}, errc::bad_id, "id must be an unsigned 64-bit integer"};
    }

    auto const type = object->find("type");
    if (type == object->end() || !type->value().is_string())
        return decode_error{id, errc::missing_type, "type must be a string naming the request"};

    static json::object const no_data;
    json::object const* data = &no_data;
    if (auto const found = object->find("data"); found != object->end()) {
        data = found->value().if_object();
        if (!data)
            return decode_error{id, errc::bad_data, "data must be an object"};
    }
    return decode_body(type->value().get_string(), *data, id);
}

envelope_writer::envelope_writer(std::string_view type, request_id id)
{
    append("{\"type\":");
    append_string(type);
    if (id) {
        append(",\"id\":");
        append_number(*id);
    }
    append(",\"data\":{");
}

void envelope_writer::string_field(std::string_view name, std::string_view text)
{
    field_name(name);
    append_string(text);
}

void envelope_writer::unsigned_field(std::string_view name, std::uint64_t number)
{
    field_name(name);
    append_number(number);
}

void envelope_writer::bool_field(std::string_view name, bool flag)
{
    field_name(name);
    append(flag ? "true" : "false");
}

void envelope_writer::value_field(std::string_view name, json::value const& value)
{
    field_name(name);
    append_value(value);
}

// A client's JSON as it came, but for the spelling of its fractions: Boost.JSON writes 101.5 as
// 1.015E2, so those are written here (append_double); the rest as Boost.JSON writes it.
void envelope_writer::append_value(
    json::value const& value)  // NOLINT(misc-no-recursion): as deep as the parser let it be
{
    switch (value.kind()) {
    case json::kind::object: {
        append("{");
        bool first = true;
        for (auto const& member : value.get_object()) {
            append(std::exchange(first, false) ? "" : ",");
            append_string(member.key());
            append(":");
            append_value(member.value());
        }
        append("}");
        return;
    }
    case json::kind::array: {
        append("[");
        bool first = true;
        for (auto const& element : value.get_array()) {
            append(std::exchange(first, false) ? "" : ",");
            append_value(element);
        }
        append("]");
        return;
    }
    case json::kind::double_:
        append_double(value.get_double());
        return;
    default: {  // null, bool, integers, strings
        json::serializer serializer;
        serializer.reset(&value);
        append_serialized(serializer);
        return;
    }
    }
}

// The shortest text that reads back as the same double (std::to_chars), in plain notation where
// that is no longer (101.5, 0.1, 1e+21), and with ".0" where it would read as an integer (1e3
// is 1000.0), so that a client's fraction comes back a fraction. The parser admits no NaN or
// infinity.
void envelope_writer::append_double(double number)
{
    std::array<char, 32> text{};
    auto const end = std::to_chars(text.data(), text.data() + text.size(), number).ptr;
    std::string_view const written(text.data(), static_cast<std::size_t>(end - text.data()));
    append(written);
    if (written.find_first_of(".e") == std::string_view::npos)
        append(".0");
}

std::string envelope_writer::finish()
{
    auto const text = finish_view();
    if (!longer_.empty())
        return std::move(longer_);
    return std::string(text);
}

std::string_view envelope_writer::finish_view()
{
    append("}}");
    return longer_.empty() ? std::string_view(local_.data(), used_) : std::string_view(longer_);
}

void envelope_writer::field_name(std::string_view name)
{
    // A member's name, a C++ identifier: nothing in it needs escaping.
    append(first_field_ ? "\"" : ",\"");
    first_field_ = false;
    append(name);
    append("\":");
}

void envelope_writer::append_string(std::string_view text)
{
    json::serializer serializer;
    serializer.reset(json::string_view(text.data(), text.size()));
    append_serialized(serializer);
}

void envelope_writer::append_number(std::uint64_t number)
{
    std::array<char, 24> digits{};
    auto const end = std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr;
    append(std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data())));
}

void envelope_writer::append_serialized(json::serializer& serializer)
{
    std::array<char, 256> chunk;
    while (!serializer.done())
        append(serializer.read(chunk.data(), chunk.size()));
}

void envelope_writer::append(std::string_view piece)
{
    // Once the text has moved to longer_ it stays there; it is never empty then, since the
    // constructor's first piece always fits in local_.
    if (longer_.empty() && piece.size() <= local_.size() - used_) {
        std::memcpy(local_.data() + used_, piece.data(), piece.size());
        used_ += piece.size();
        return;
    }
    if (longer_.empty()) {
        longer_.reserve(2 * (used_ + piece.size()));
        longer_.assign(local_.data(), used_);
    }
    longer_.append(piece);
}

std::string encode_error(request_id id, errc code, std::string_view message)
{
    return encode(error{std::string(to_string(code)), std::string(message)}, id);
}

std::optional<envelope> parse_envelope(std::string_view text)
{
    boost::system::error_code ec;
    json::value document = json::parse(text, ec);
    if (ec || !document.is_object())
        return std::nullopt;
    auto& object = document.get_object();

    envelope result;
    auto const type = object.find("type");
    if (type == object.end() || !type->value().is_string())
        return std::nullopt;
    result.type = type->value().get_string();
    if (auto const found = object.find("id"); found != object.end()) {
        result.id = read_id(found->value());
        if (!result.id)
            return std::nullopt;
    }
    if (auto const found = object.find("data"); found != object.end()) {
        if (!found->value().is_object())
            return std::nullopt;
        result.data = std::move(found->value().get_object());
    }
    return result;
}

}  // namespace coropush::protocol
