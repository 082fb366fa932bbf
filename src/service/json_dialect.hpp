// The coropush.v1 dialect: typed JSON envelopes. Decodes each text frame into a request struct
// and hands it to the handler for its type; anything that does not decode gets an error envelope
// (with the request's id where it could be read) and the connection stays open. It also keeps the
// connection's standing: who its token says it is (--auth), and its message rate.
#pragma once

#include "auth/identity.hpp"
#include "auth/token_bucket.hpp"
#include "core/endpoints.hpp"
#include "core/message_handler.hpp"
#include "core/outbound.hpp"
#include "protocol/codec.hpp"
#include "service/json_extensions.hpp"
#include "service/service_context.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace coropush::service {

inline constexpr char json_subprotocol[] = "coropush.v1";

// Its endpoint: "/" and "/ws" for a client offering coropush.v1, messages up to
// --max-message-bytes, behind the Origin policy (a hostile page must not publish or subscribe with
// a visitor's browser).
websocket_endpoint json_endpoint(service_context const& services);

// A topic message as its subscribers get it, written once for all of them (and the backplane):
// what a client's publish, the server API's /api/publish and a job's topic event hand the hub.
shared_payload topic_envelope(protocol::message const& message);

class json_dialect final : public message_handler {
public:
    // Under --auth required, asks the connection to close (4401) unless a token comes in time.
    json_dialect(outbox& out, service_context const& services);

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;
    void on_closed() override;

    // One handler per request type the dialect itself answers: adding a type adds one overload.
    // The other types of protocol::request are the features' (json_extensions: topics, jobs), or
    // unknown_type.
    void handle(protocol::hello const& request, protocol::request_id id);
    void handle(protocol::echo const& request, protocol::request_id id);
    void handle(protocol::auth const& request, protocol::request_id id);

    // --- For the handlers of features (service/json_extensions.hpp) ------------------------------
    outbox& out() const noexcept { return out_; }
    service_context const& services() const noexcept { return services_; }
    // Who the connection's token says it is; null while anonymous.
    auth::identity const* identity() const noexcept { return identity_.get(); }
    // The user a job belongs to: empty for an anonymous client (and for everyone under --auth off).
    std::string user() const;

    // Encoded on the stack and lent to the outbox, which copies it straight into the socket's
    // write batch when it can: most replies cost no allocation.
    template <class Message>
    void reply(Message const& message, protocol::request_id id)
    {
        protocol::encode_to(message, id, [this](std::string_view text) { out_.send_copy(text, false); });
    }
    // An error envelope, with the request's id; the connection stays open.
    void fail(protocol::request_id id, protocol::errc code, std::string_view message);
    // A handler that must wait (a database, a backend) hands the session its coroutine here, and
    // the session awaits it before reading the next message (core/message_handler.hpp).
    using message_handler::await_before_next_read;
    // Whether the connection's token (or, without one, --anonymous-subscribe / --anonymous-publish)
    // lets it do `operation` on `topic`; when not, it has been sent a `forbidden` error.
    bool permitted(auth::topic_operation operation, std::string const& topic, protocol::request_id id);

    // A feature's state for this connection, in the slot it was given (add_state_slot); made
    // with `make()` on first use, so a connection that never uses the feature pays nothing for it.
    template <class State, class Make>
    State& state(std::size_t slot, Make make)
    {
        if (slot >= states_.size())
            states_.resize(slot + 1);
        if (!states_[slot])
            states_[slot] = make();
        return static_cast<State&>(*states_[slot]);
    }

private:
    void handle_extension(std::string_view type, protocol::request const& body, protocol::request_id id);
    bool within_rate_limit();
    bool authenticated_enough(protocol::request const& body, protocol::request_id id);

    outbox& out_;
    service_context const& services_;
    std::vector<std::unique_ptr<connection_state>> states_;  // the features', by slot; empty until one is used
    // Who the connection's token says it is; null while anonymous (a pointer, so an anonymous
    // connection spends 8 bytes on it, not the identity's size).
    std::unique_ptr<auth::identity> identity_;
    auth::token_bucket messages_;  // --rate-messages / --rate-burst
    auth::token_bucket refusals_;  // refused messages, forgiven at the same rate: empty means close
    bool closed_for_rate_ = false;
};

}  // namespace coropush::service
