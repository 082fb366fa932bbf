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
#include "service/service_context.hpp"

#include <memory>
#include <set>
#include <string>

namespace coropush::service {

inline constexpr char json_subprotocol[] = "coropush.v1";

// Its endpoint: "/" and "/ws" for a client offering coropush.v1, messages up to
// --max-message-bytes, behind the Origin policy (a hostile page must not publish or subscribe with
// a visitor's browser).
websocket_endpoint json_endpoint(service_context const& services);

// A topic message as its subscribers get it, written once for all of them (and the backplane):
// what a client's publish and the server API's /api/publish hand the hub.
shared_payload topic_envelope(protocol::message const& message);

class json_dialect final : public message_handler {
public:
    // Under --auth required, asks the connection to close (4401) unless a token comes in time.
    json_dialect(outbox& out, service_context const& services);

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;
    void on_closed() override;

    // One handler per request type (see protocol::request): adding a type adds one overload.
    void handle(protocol::hello const& request, protocol::request_id id);
    void handle(protocol::echo const& request, protocol::request_id id);
    void handle(protocol::auth const& request, protocol::request_id id);
    void handle(protocol::subscribe const& request, protocol::request_id id);
    void handle(protocol::unsubscribe const& request, protocol::request_id id);
    void handle(protocol::publish const& request, protocol::request_id id);
    void handle(protocol::job_start const& request, protocol::request_id id);
    void handle(protocol::job_cancel const& request, protocol::request_id id);
    void handle(protocol::job_resume const& request, protocol::request_id id);

private:
    template <class Message>
    void reply(Message const& message, protocol::request_id id)
    {
        out_.send(text_message(make_payload(protocol::encode(message, id))));
    }
    void fail(protocol::request_id id, protocol::errc code, std::string_view message);
    bool check_topic(std::string const& topic, protocol::request_id id);
    bool within_rate_limit();
    bool authenticated_enough(protocol::request const& body, protocol::request_id id);
    bool permitted(auth::topic_operation operation, std::string const& topic, protocol::request_id id);
    std::string user() const;

    outbox& out_;
    service_context const& services_;
    std::set<std::string> subscriptions_;
    std::set<std::string> watched_jobs_;
    // Who the connection's token says it is; null while anonymous (a pointer, so an anonymous
    // connection spends 8 bytes on it, not the identity's size).
    std::unique_ptr<auth::identity> identity_;
    auth::token_bucket messages_;  // --rate-messages / --rate-burst
    auth::token_bucket refusals_;  // refused messages, forgiven at the same rate: empty means close
    bool closed_for_rate_ = false;
};

}  // namespace coropush::service
