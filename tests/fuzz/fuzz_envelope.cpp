// libFuzzer target: the envelope decoder, the first thing every JSON-dialect message meets.
// Properties checked beyond "does not crash": a decoded request re-encodes to a text that
// decodes to the same request, and every failure has a non-empty message.
#include "protocol/codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool condition)
{
    if (!condition)
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace coropush::protocol;
    std::string_view const text(reinterpret_cast<char const*>(data), size);

    auto const result = decode_request(text);
    if (auto const* failure = std::get_if<decode_error>(&result)) {
        check(!failure->message.empty());
        check(!encode_error(failure->id, failure->code, failure->message).empty());
    } else {
        auto const& in = std::get<inbound>(result);
        auto const again = std::visit([&](auto const& body) { return encode(body, in.id); }, in.body);
        auto const second = decode_request(again);
        check(std::holds_alternative<inbound>(second));
        auto const& in2 = std::get<inbound>(second);
        check(in2.id == in.id);
        check(in2.body.index() == in.body.index());
        auto const third = std::visit([&](auto const& body) { return encode(body, in2.id); }, in2.body);
        check(third == again);
    }
    (void)parse_envelope(text);
    return 0;
}
