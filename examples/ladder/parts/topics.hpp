// Step 7's idea, shared by step 8: topics with fan-out. A session subscribes to a topic; a publish
// serializes its message once and queues the same buffer on every subscriber's outbox
// (07-topics.cpp tells the story).
#pragma once

#include "parts/shutdown.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace ladder {

using session_ptr = std::shared_ptr<graceful::session_state>;

// The topics, shared by every session: main owns them. One thread runs every session here, so a
// session touches another's queue directly; the real server, on several threads, hands each io
// thread's shard the list of its subscribers instead, once (src/topics/topic_hub.cpp).
struct topic_registry {
    std::map<std::string, std::set<session_ptr>> subscribers;  // topic -> its subscribers
    std::map<session_ptr, std::set<std::string>> topics_of;    // session -> its topics, to leave them
};

// Answers step 7's requests: hello (as every step), subscribe and publish; anything else is an
// error reply.
void answer(session_ptr const& s, topic_registry& topics, std::optional<request> const& request);

// The session has ended: it is no one's subscriber any more.
void leave_topics(session_ptr const& s, topic_registry& topics);

}  // namespace ladder
