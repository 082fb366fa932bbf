// The envelope codec of the coropush.v1 dialect: text <-> {"type", "id"?, "data"?}.
//
//   decode_request("...")  -> inbound{id, request} or decode_error{id, code, message}
//   encode(welcome{...}, id) -> "{\"type\":\"welcome\",\"id\":7,\"data\":{\"text\":\"...\"}}"
#pragma once

#include "protocol/described_json.hpp"
#include "protocol/errc.hpp"
#include "protocol/messages.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

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

// The envelope around an already-built "data" object.
std::string encode_envelope(std::string_view type, request_id id, boost::json::object const& data);

// The "data" object is built in a buffer on the stack (the heap only past 2 KiB): the DOM lives
// only until it is serialized, so only the text returned is allocated.
template <class Message>
std::string encode(Message const& message, request_id id = {})
{
    std::array<unsigned char, 2048> scratch;
    boost::json::monotonic_resource arena(scratch.data(), scratch.size());
    boost::json::object const data = to_data(message, &arena);
    return encode_envelope(Message::type, id, data);
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
