// permessage-deflate (RFC 7692) as --deflate offers it: the settings for one upgrade, and why.
#pragma once

#include <boost/beast/websocket/option.hpp>

#include <string_view>

namespace coropush::net {

// What the session's stream is given before it accepts an upgrade whose Sec-WebSocket-Extensions
// header is `offer`. Beast negotiates from the offer and its answer says what was agreed; an
// upgrade that offers nothing gets no extension, whatever these say.
boost::beast::websocket::permessage_deflate deflate_settings(std::string_view offer, bool context_takeover);

}  // namespace coropush::net
