// A GoogleMock of the backplane, the seam between a node and the others: for the unit tests of
// what the hub and the server hand it, and of what they do with what it hands back.
#pragma once

#include "pubsub/backplane.hpp"

#include <gmock/gmock.h>

namespace coropush::testing {

class mock_backplane : public pubsub::backplane {
public:
    MOCK_METHOD(void, start, (metrics&, remote_sink), (override));
    MOCK_METHOD(void, subscribe, (std::string const&), (override));
    MOCK_METHOD(void, unsubscribe, (std::string const&), (override));
    MOCK_METHOD(void, publish, (std::string const&, shared_payload const&), (override));
    MOCK_METHOD(bool, healthy, (), (const, override));
    MOCK_METHOD(void, on_disconnect_user, (user_sink), (override));
    MOCK_METHOD(void, disconnect_user, (std::string const&), (override));
    MOCK_METHOD(void, shutdown, (), (override));
};

}  // namespace coropush::testing
