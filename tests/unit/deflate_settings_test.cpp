// The permessage-deflate settings --deflate gives Beast: small windows, no context takeover unless
// asked, a threshold, and the client's window chosen only where its offer allows it.
#include "net/deflate_settings.hpp"

#include <gtest/gtest.h>

namespace coropush::net {
namespace {

TEST(deflate_settings, small_windows_no_context_takeover_and_a_threshold_by_default)
{
    auto const s = deflate_settings("permessage-deflate; client_max_window_bits", false);
    EXPECT_TRUE(s.server_enable);
    EXPECT_FALSE(s.client_enable);
    EXPECT_EQ(s.server_max_window_bits, 10);
    EXPECT_EQ(s.client_max_window_bits, 10);
    EXPECT_TRUE(s.server_no_context_takeover);
    EXPECT_TRUE(s.client_no_context_takeover);
    EXPECT_EQ(s.compLevel, 6);
    EXPECT_EQ(s.memLevel, 3);
    EXPECT_EQ(s.msg_size_threshold, 256u);
}

TEST(deflate_settings, context_takeover_when_asked)
{
    auto const s = deflate_settings("permessage-deflate; client_max_window_bits", true);
    EXPECT_FALSE(s.server_no_context_takeover);
    EXPECT_FALSE(s.client_no_context_takeover);
}

TEST(deflate_settings, the_client_window_is_chosen_only_where_the_offer_lets_the_server_choose)
{
    EXPECT_EQ(deflate_settings("permessage-deflate; client_max_window_bits=12", false).client_max_window_bits, 10);
    EXPECT_EQ(deflate_settings("x-webkit-deflate-frame, PERMESSAGE-DEFLATE; Client_Max_Window_Bits", false)
                  .client_max_window_bits,
              10);
    // Firefox's offer, and offers where the parameter belongs to another extension or is absent.
    EXPECT_EQ(deflate_settings("permessage-deflate", false).client_max_window_bits, 15);
    EXPECT_EQ(deflate_settings("permessage-deflate; server_no_context_takeover", false).client_max_window_bits, 15);
    EXPECT_EQ(deflate_settings("x-other; client_max_window_bits, permessage-deflate", false).client_max_window_bits,
              15);
    EXPECT_EQ(deflate_settings("", false).client_max_window_bits, 15);
}

// RFC 7692 7.1.2.1: the server's window may not be larger than the offer asks. zlib has no 8-bit
// window (Beast would answer 9): an offer of 8 is declined; 9 and up are answered as usual.
TEST(deflate_settings, an_offer_of_an_8_bit_server_window_is_declined)
{
    EXPECT_FALSE(deflate_settings("permessage-deflate; server_max_window_bits=8", false).server_enable);
    EXPECT_FALSE(deflate_settings("permessage-deflate; Server_Max_Window_Bits=\"8\"", false).server_enable);
    EXPECT_TRUE(deflate_settings("permessage-deflate; server_max_window_bits=9", false).server_enable);
    EXPECT_TRUE(deflate_settings("permessage-deflate", false).server_enable);
}

}  // namespace
}  // namespace coropush::net
