// Request handlers of the coropush.v1 dialect.
#include "service/json_dialect.hpp"

#include "auth/token_verifier.hpp"
#include "core/log.hpp"
#include "protocol/close_codes.hpp"
#include "service/user_sessions.hpp"

#include <algorithm>
#include <chrono>

namespace coropush::service {
namespace {
using steady = std::chrono::steady_clock;
using wall_clock = std::chrono::system_clock;

// When a session whose token expires at `expires` must end: as long as the verifier would still
// take the token (its clock skew included), measured on the steady clock the session times with.
steady::time_point session_end(wall_clock::time_point expires, std::chrono::seconds skew)
{
    auto const left = std::chrono::duration_cast<steady::duration>(expires + skew - wall_clock::now());
    return steady::now() + std::max(left, steady::duration::zero());
}

std::uint64_t unix_seconds(wall_clock::time_point t)
{
    auto const seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    return static_cast<std::uint64_t>(std::max<std::int64_t>(seconds, 0));
}

}  // namespace

websocket_endpoint json_endpoint(service_context const& services)
{
    return websocket_endpoint{
        "json", {"/", "/ws"}, json_subprotocol, services.options.max_message_bytes, true, [&services](outbox& out) {
            return std::make_unique<json_dialect>(out, services);
        }};
}

json_dialect::json_dialect(outbox& out, service_context const& services)
    : out_(out),
      services_(services),
      messages_(services.options.rate_messages, services.options.rate_burst, steady::now()),
      refusals_(services.options.rate_messages, services.options.rate_burst, steady::now())
{
    // The connection closes the session at this deadline unless a token moves it (handle(auth)).
    if (services_.access.mode == auth::auth_mode::required)
        out_.close_at(steady::now() + services_.options.handshake_timeout,
                      protocol::close_codes::authentication_required, "authentication required");
}

void json_dialect::on_text(std::string_view text)
{
    if (!within_rate_limit())
        return;
    auto decoded = protocol::decode_request(text);
    if (auto const* bad = std::get_if<protocol::decode_error>(&decoded)) {
        fail(bad->id, bad->code, bad->message);
        return;
    }
    auto& request = std::get<protocol::inbound>(decoded);
    if (!authenticated_enough(request.body, request.id))
        return;
    std::visit(
        [&](auto const& body) {
            using request_type = std::decay_t<decltype(body)>;
            if constexpr (requires(json_dialect & self) { self.handle(body, request.id); })
                handle(body, request.id);
            else
                handle_extension(request_type::type, request.body, request.id);
        },
        request.body);
}

// A request type of a feature: its handler, or, when this server has no such feature, the error
// the codec gives a type it does not know.
void json_dialect::handle_extension(std::string_view type, protocol::request const& body, protocol::request_id id)
{
    if (auto const* handler = services_.extensions.find(type)) {
        (*handler)(*this, body, id);
        return;
    }
    fail(id, protocol::errc::unknown_type, "unknown type \"" + std::string(type) + "\"");
}

void json_dialect::on_binary(std::string_view)
{
    if (!within_rate_limit())
        return;
    // Binary frames have no meaning in this dialect; say so and keep the connection.
    fail({}, protocol::errc::binary_unsupported, "binary frames are not supported; send JSON text frames");
}

void json_dialect::fail(protocol::request_id id, protocol::errc code, std::string_view message)
{
    services_.stats.error_envelope(code);
    if (code == protocol::errc::forbidden)
        services_.stats.forbidden_operations.fetch_add(1, std::memory_order_relaxed);
    log_debug(out_.id(), "error envelope ", protocol::to_string(code), ": ", message);
    out_.send(text_message(make_payload(protocol::encode_error(id, code, message))));
}

// --- Standing: the rate limit and the token ------------------------------------------------------

// Every message takes a token from the bucket before it is even parsed (parsing is part of what a
// flood costs). A message with none left is refused with an error envelope, and the refusals
// have their own allowance, refilled at the same rate: a client that stays above the limit
// empties it (sending at over twice the rate does so in about burst / rate seconds) and is
// closed, so a flood cannot keep the server writing error envelopes forever.
bool json_dialect::within_rate_limit()
{
    if (services_.options.rate_messages == 0)
        return true;
    if (closed_for_rate_)
        return false;  // closing: what still arrives is read and dropped
    auto const now = steady::now();
    if (messages_.try_take(now))
        return true;
    services_.stats.rate_limited_messages.fetch_add(1, std::memory_order_relaxed);
    if (refusals_.try_take(now)) {
        fail({}, protocol::errc::rate_limited,
             "more than " + std::to_string(services_.options.rate_messages) +
                 " messages a second: this one was not handled");
        return false;
    }
    closed_for_rate_ = true;
    services_.stats.rate_limit_closes.fetch_add(1, std::memory_order_relaxed);
    log_info(out_.id(), "rate limit exceeded: closing with 1008");
    out_.close(1008, "rate limit exceeded");
    return false;
}

// Under --auth required, a connection without a token may only present one.
bool json_dialect::authenticated_enough(protocol::request const& body, protocol::request_id id)
{
    if (services_.access.mode != auth::auth_mode::required || identity_ || std::holds_alternative<protocol::auth>(body))
        return true;
    fail(id, protocol::errc::unauthorized, "authenticate first: send an auth message with your token");
    return false;
}

void json_dialect::handle(protocol::auth const& request, protocol::request_id id)
{
    if (services_.verifier == nullptr) {
        fail(id, protocol::errc::unauthorized, "this server takes no tokens (--auth off)");
        return;
    }
    auto verified = services_.verifier->verify(request.token);
    if (auto const* refused = std::get_if<auth::token_error>(&verified)) {
        services_.stats.auth_failed(refused->code);
        log_info(out_.id(), "token refused: ", auth::to_string(refused->code));
        fail(id, protocol::errc::unauthorized, std::string(auth::to_string(refused->code)) + ": " + refused->message);
        return;
    }
    auto& who = std::get<auth::identity>(verified);
    // A fresh token extends the session of the same user; a connection never changes hands.
    if (identity_ && who.subject != identity_->subject) {
        fail(id, protocol::errc::forbidden, "this connection is authenticated as another user");
        return;
    }
    if (!identity_) {
        services_.users.add(who.subject, out_.target());
        log_debug(out_.id(), "authenticated as ", who.subject);
    }
    identity_ = std::make_unique<auth::identity>(std::move(who));
    auto const skew = std::chrono::duration_cast<std::chrono::seconds>(services_.options.auth_clock_skew);
    out_.close_at(session_end(identity_->expires, skew), protocol::close_codes::token_expired, "token expired");
    reply(protocol::authenticated{identity_->subject, unix_seconds(identity_->expires)}, id);
}

bool json_dialect::permitted(auth::topic_operation operation, std::string const& topic, protocol::request_id id)
{
    if (auth::allowed(services_.access, identity_.get(), operation, topic))
        return true;
    auto const verb = operation == auth::topic_operation::subscribe ? "subscribe to " : "publish to ";
    fail(id, protocol::errc::forbidden, std::string("not allowed to ") + verb + topic);
    return false;
}

// The user a job belongs to: empty for an anonymous client (and for everyone under --auth off).
std::string json_dialect::user() const
{
    return identity_ ? identity_->subject : std::string();
}

// --- The demo ----------------------------------------------------------------------------------

void json_dialect::handle(protocol::hello const&, protocol::request_id id)
{
    reply(protocol::welcome{services_.demo.welcome_text}, id);
    // The notice is the same bytes for everyone: serialized once at start-up.
    out_.send_after(services_.demo.push_delay, text_message(services_.demo.json_notice));
}

void json_dialect::handle(protocol::echo const& request, protocol::request_id id)
{
    reply(request, id);  // the same message back
}

// --- What features share -----------------------------------------------------------------------

shared_payload topic_envelope(protocol::message const& message)
{
    return make_payload(protocol::encode(message));
}

void json_dialect::on_closed()
{
    for (auto const& state : states_) {
        if (state)
            state->on_closed(*this);
    }
    states_.clear();
    if (identity_)
        services_.users.remove(identity_->subject, out_.id());
}

}  // namespace coropush::service
