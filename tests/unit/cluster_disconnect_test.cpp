// Disconnecting a user on every node, at the seam: the server hands each disconnect_user to its
// backplane (for the other nodes) and closes its own sessions, and closes its sessions when the
// backplane brings another node's request, without handing that one on again. (Against a real
// Redis and two nodes: tests/redis/backplane_test.cpp.)
#include "server/server.hpp"
#include "support/mock_backplane.hpp"
#include "support/test_server.hpp"

#include <boost/asio/io_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coropush {
namespace {
using coropush::testing::mock_backplane;
using ::testing::_;
using ::testing::InSequence;
using ::testing::SaveArg;
using ::testing::StrictMock;

TEST(cluster_disconnect, the_server_tells_the_other_nodes_and_does_not_pass_on_what_they_tell_it)
{
    boost::asio::io_context io;  // never run: no session, no I/O, only the wiring
    auto owned = std::make_unique<StrictMock<mock_backplane>>();
    auto& link = *owned;
    pubsub::backplane::user_sink from_other_nodes;
    {
        InSequence order;  // the sink is in place before messages can arrive
        EXPECT_CALL(link, on_disconnect_user(_)).WillOnce(SaveArg<0>(&from_other_nodes));
        EXPECT_CALL(link, start(_, _));
    }
    server node(io, testing::test_options(), std::move(owned));
    node.start();
    ASSERT_TRUE(from_other_nodes);

    EXPECT_CALL(link, disconnect_user("alice"));
    EXPECT_EQ(node.disconnect_user("alice"), 0u) << "the answer counts this node's sessions: none here";

    // Strict: a disconnect_user call from here would fail the test (each node hears a request
    // from the backplane itself; handing it on would echo it around the cluster).
    from_other_nodes("bob");
}

}  // namespace
}  // namespace coropush
