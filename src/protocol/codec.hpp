// The envelope codec of the coropush.v1 dialect: text <-> {"type", "id"?, "data"?}.
//
//   decode_request("...")  -> inbound{id, request} or decode_error{id, code, message}
//   encode(welcome{...}, id) -> "{\"type\":\"welcome\",\"id\":7,\"data\":{\"text\":\"...\"}}"
#pragma once

#include "protocol/described_json.hpp"
#include "protocol/errc.hpp"
#include "protocol/messages.hpp"

#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace boost::json {
class serializer;
}  // namespace boost::json

namespace coropush::protocol {

// A request that decoded: its id, if it had one, and its typed body.
struct inbound {
    request_id id;
    request body;
};

// Why a text frame is not a request, with the request's id when it could be read.
struct decode_error {
    request_id id;
    errc code;
    std::string message;
};

using decode_result = std::variant<inbound, decode_error>;

decode_result decode_request(std::string_view text);

// The text of an envelope as `encode` writes it: type, id, then the data's fields in the order
// given (a message's declared order). It gathers in a buffer on the stack and is copied once into
// the string finish() returns, continuing on the heap only when it outgrows the buffer: one
// allocation for most envelopes, and no JSON object built on the way. finish_view() returns the
// text where it is, for a caller that only copies it (a reply framed straight into the socket's
// batch): no allocation at all for most envelopes.
class envelope_writer {
public:
    envelope_writer(std::string_view type, request_id id);

    void string_field(std::string_view name, std::string_view text);
    void unsigned_field(std::string_view name, std::uint64_t number);
    void bool_field(std::string_view name, bool flag);
    void value_field(std::string_view name, boost::json::value const& value);
    // Closes the data and the envelope and returns the text. Called once, last (one of the two).
    std::string finish();
    // The same, as a view of the writer's own buffer: valid while the writer lives.
    std::string_view finish_view();

private:
    void field_name(std::string_view name);
    void append_string(std::string_view text);
    void append_number(std::uint64_t number);
    void append_value(boost::json::value const& value);
    void append_double(double number);
    void append_serialized(boost::json::serializer& serializer);
    void append(std::string_view piece);

    std::array<char, 1024> local_;
    std::size_t used_ = 0;
    std::string longer_;  // the whole text once it has outgrown local_, empty until then
    bool first_field_ = true;
};

namespace detail {

// One field of a described message, as to_data would hold it: an absent optional is left out.
template <class T>
void write_field(envelope_writer& out, std::string_view name, T const& value)
{
    if constexpr (is_optional<T>::value) {
        if (value)
            write_field(out, name, *value);
    } else if constexpr (std::is_same_v<T, bool>) {
        out.bool_field(name, value);
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
        out.unsigned_field(name, value);
    } else if constexpr (std::is_convertible_v<T const&, std::string_view>) {
        out.string_field(name, value);
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        out.value_field(name, value);
    } else {
        out.value_field(name, boost::json::value_from(value));  // any other type Boost.JSON converts
    }
}

}  // namespace detail

// The envelope of a message: the same text as serializing to_data(message) into it, written
// straight from the fields.
template <class Message>
void write_message(envelope_writer& out, Message const& message)
{
    boost::mp11::mp_for_each<detail::fields<Message>>(
        [&](auto field) { detail::write_field(out, field.name, message.*field.pointer); });
}

template <class Message>
std::string encode(Message const& message, request_id id = {})
{
    envelope_writer out(Message::type, id);
    write_message(out, message);
    return out.finish();
}

// The same text, lent to `use` (called with a std::string_view valid only during the call)
// instead of returned in a string of its own.
template <class Message, class Use>
void encode_to(Message const& message, request_id id, Use&& use)
{
    envelope_writer out(Message::type, id);
    write_message(out, message);
    std::forward<Use>(use)(out.finish_view());
}

std::string encode_error(request_id id, errc code, std::string_view message);

// At most the first `max_bytes` of `text`, cut between characters: a text quoted in an error
// message must stay UTF-8, or a browser fails the whole connection. Bytes that are not UTF-8
// become U+FFFD. The quoted type in an `unknown_type` message is cut this way.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes);

// An envelope as a client reads it, before it knows the type: see client/ws_client.hpp.
struct envelope {
    std::string type;
    request_id id;
    boost::json::object data;
};

// Parses any envelope (server messages included). Returns nothing when `text` is not one.
std::optional<envelope> parse_envelope(std::string_view text);

// The typed body of an envelope of a known type, or the reason it does not fit.
template <class Message>
std::variant<Message, std::string> data_as(envelope const& e)
{
    if (e.type != Message::type)
        return "expected a " + std::string(Message::type) + " message, got " + e.type;
    Message message;
    if (auto failure = from_data(e.data, message))
        return *failure;
    return message;
}

}  // namespace coropush::protocol
