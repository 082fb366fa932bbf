// The topics feature assembled: the topic hub, and its registrations with the dialect, the API and
// the server (what other features publish through; what the backplane hands over).
#include "topics/feature/topics_feature.hpp"

#include "service/json_extensions.hpp"
#include "topics/topic_hub.hpp"

namespace coropush::topics_feature {
namespace {

class topics_running final : public service::feature {
public:
    explicit topics_running(service::feature_host const& host)
        : hub_(host.stats, host.link, host.shards),
          publish_(host.publish),
          from_other_nodes_(host.from_other_nodes)
    {
        add_topic_messages(host.json, hub_);
        publish_ = [this](std::string const& topic, shared_payload const& envelope) {
            return hub_.publish(topic, envelope);
        };
        from_other_nodes_ = [this](std::string const& topic, shared_payload const& envelope) {
            hub_.deliver(topic, envelope);
        };
        host.api.add(publish_route(publish_, host.options.max_topic_length));
    }
    ~topics_running() override
    {
        publish_ = nullptr;
        from_other_nodes_ = nullptr;
    }
    topics_running(topics_running const&) = delete;
    topics_running& operator=(topics_running const&) = delete;

    // Nothing runs: the backplane, which the server stops next, stops handing messages over.
    void stop() override {}

private:
    topics::topic_hub hub_;
    service::topic_publisher& publish_;
    service::topic_sink& from_other_nodes_;
};

}  // namespace

std::unique_ptr<service::feature> make_topics(service::feature_host const& host)
{
    return std::make_unique<topics_running>(host);
}

}  // namespace coropush::topics_feature
