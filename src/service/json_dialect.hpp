// The coropush.v1 dialect: typed JSON envelopes. Decodes each text frame into a request struct
// and hands it to the handler for its type; anything that does not decode gets an error envelope
// (with the request's id where it could be read) and the connection stays open.
#pragma once

#include "core/frame.hpp"
#include "protocol/codec.hpp"
#include "service/message_handler.hpp"
#include "service/service_context.hpp"

#include <set>
#include <string>

namespace coropush {

class json_dialect final : public message_handler {
public:
    json_dialect(outbox& out, service_context const& services)
        : out_(out),
          services_(services)
    {
    }

    void on_text(std::string_view text) override;
    void on_binary(std::string_view data) override;
    void on_closed() override;

    // One handler per request type (see protocol::request): adding a type adds one overload.
    void handle(protocol::hello const& request, protocol::request_id id);
    void handle(protocol::echo const& request, protocol::request_id id);
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
        out_.send(text_frame(make_payload(protocol::encode(message, id))));
    }
    void fail(protocol::request_id id, protocol::errc code, std::string_view message);
    bool check_topic(std::string const& topic, protocol::request_id id);

    outbox& out_;
    service_context const& services_;
    std::set<std::string> subscriptions_;
    std::set<std::string> watched_jobs_;
};

}  // namespace coropush
