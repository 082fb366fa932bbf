// The connection's scheduled pushes (send_after), driven by hand: the test plays the session's
// writer (start_writer is recorded, the queue is drained with next_message / message_written /
// writer_done) over a real deadline scheduler on an io_context run here. And an end asked for
// from outside while the session's handshake is under way.
#include "net/connection.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace coropush::net {
namespace {
using namespace std::chrono_literals;

class recording_io : public session_io {
public:
    void start_writer() override { ++writers_started; }
    void abort() override { ++aborts; }
    // A session that can write a message without a writer answers `answer` (no: the default).
    sent_now send_now(std::string_view payload, bool binary) override
    {
        if (answer != sent_now::no) {
            sent.emplace_back(payload);
            sent_binary.push_back(binary);
        }
        return answer;
    }
    int writers_started = 0;
    int aborts = 0;
    sent_now answer = sent_now::no;
    std::vector<std::string> sent;  // what send_now took
    std::vector<bool> sent_binary;  // and whether each was binary
};

// A connection on an io_context run by the test, attached to a recording session.
class connection_test : public ::testing::Test {
protected:
    boost::asio::io_context io_;
    metrics stats_;
    deadline_scheduler deadlines_{{io_.get_executor()}};
    std::shared_ptr<connection> conn_ =
        std::make_shared<connection>(io_.get_executor(), 1, 0, queue_limits{}, session_timing{}, deadlines_, stats_);
    recording_io io_side_;
    connection::io_guard attached_ = conn_->attach(io_side_);
};

class connection_pushes : public connection_test {
protected:
    connection_pushes() { conn_->websocket_opened(); }  // no pings: session_timing{} has none

    // What the session's writer does: writes every queued message, then returns.
    std::vector<std::string> drain(bool fail = false)
    {
        std::vector<std::string> written;
        while (!fail && conn_->has_queued()) {
            written.push_back(*conn_->next_message().payload);
            conn_->message_written();
        }
        conn_->writer_done(fail);
        return written;
    }

    // Runs the io_context until the connection has queued something (a released push), within
    // a bound: a push due now is released by the scheduler's timer in one or two handlers.
    bool run_until_queued()
    {
        for (int i = 0; i < 100 && !conn_->has_queued(); ++i)
            if (io_.run_one_for(1s) == 0)
                break;
        return conn_->has_queued();
    }
};

TEST_F(connection_pushes, a_push_after_a_reply_starts_its_delay_when_the_reply_has_been_written)
{
    conn_->send(text_message(make_payload("welcome")));
    ASSERT_EQ(io_side_.writers_started, 1);
    conn_->send_after(0ms, text_message(make_payload("notice")));
    // Not scheduled yet: its delay has not started, because the welcome has not left.
    EXPECT_EQ(deadlines_.pending(), 0u);
    EXPECT_EQ(conn_->queued_messages(), 1u);

    EXPECT_EQ(drain(), std::vector<std::string>{"welcome"});
    EXPECT_EQ(deadlines_.pending(), 1u) << "the writer is done: the notice's delay runs from now";
    ASSERT_TRUE(run_until_queued());
    EXPECT_EQ(io_side_.writers_started, 2);
    EXPECT_EQ(drain(), std::vector<std::string>{"notice"});
}

TEST_F(connection_pushes, a_push_with_nothing_before_it_is_scheduled_at_once)
{
    conn_->send_after(0ms, text_message(make_payload("notice")));
    EXPECT_EQ(deadlines_.pending(), 1u);
    EXPECT_EQ(io_side_.writers_started, 0);
    ASSERT_TRUE(run_until_queued());
    EXPECT_EQ(drain(), std::vector<std::string>{"notice"});
}

TEST_F(connection_pushes, pushes_waiting_for_a_writer_that_failed_are_dropped)
{
    conn_->send(text_message(make_payload("welcome")));
    conn_->send_after(0ms, text_message(make_payload("notice")));
    drain(/*fail=*/true);
    EXPECT_EQ(deadlines_.pending(), 0u);
    conn_->send(text_message(make_payload("more")));
    EXPECT_EQ(io_side_.writers_started, 1) << "no writer after a write error";
}

TEST_F(connection_pushes, waiting_pushes_count_against_the_message_limit)
{
    // queue_limits{} allows 1024 messages, queued and scheduled together; policy close.
    conn_->send(text_message(make_payload("welcome")));
    for (int i = 0; i < 1023; ++i)
        conn_->send_after(1h, text_message(make_payload("later")));
    EXPECT_FALSE(conn_->pending_close().has_value());
    conn_->send_after(1h, text_message(make_payload("one too many")));
    ASSERT_TRUE(conn_->pending_close().has_value());
    EXPECT_EQ(conn_->pending_close()->code, 1008);
}

// A session that can send without a writer (session_io::send_now): a message with nothing before
// it leaves at once; a message behind one still being written waits in the queue.
TEST_F(connection_pushes, a_message_for_an_idle_session_leaves_at_once_without_a_writer)
{
    io_side_.answer = session_io::sent_now::whole;
    conn_->send(text_message(make_payload("one")));
    conn_->send(text_message(make_payload("two")));
    EXPECT_EQ(io_side_.sent, (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(io_side_.writers_started, 0);
    EXPECT_FALSE(conn_->has_queued());
    EXPECT_FALSE(conn_->writer_running());

    conn_->send_after(0ms, text_message(make_payload("notice")));
    EXPECT_EQ(deadlines_.pending(), 1u) << "nothing is waiting to leave: the delay starts at once";
}

TEST_F(connection_pushes, what_the_socket_did_not_take_is_sent_by_a_writer_and_later_messages_wait_for_it)
{
    io_side_.answer = session_io::sent_now::partly;
    conn_->send(text_message(make_payload("large")));
    EXPECT_EQ(io_side_.writers_started, 1) << "a writer sends the rest";
    EXPECT_TRUE(conn_->writer_running());
    EXPECT_FALSE(conn_->has_queued()) << "the message itself has left the queue";

    conn_->send(text_message(make_payload("next")));
    EXPECT_EQ(io_side_.sent, std::vector<std::string>{"large"}) << "not offered: it would go around the rest";
    EXPECT_EQ(drain(), std::vector<std::string>{"next"});
    EXPECT_EQ(io_side_.writers_started, 1);
}

// Over TLS a push's write starts at once and ends later (`writing`): until the session reports it
// out, it counts as the writer, so what comes next waits in the queue; writer_has_work says
// whether a writer must then take over (queued messages, the close frame) or none is needed.
TEST_F(connection_pushes, a_push_whose_write_is_under_way_counts_as_the_writer_until_it_is_out)
{
    io_side_.answer = session_io::sent_now::writing;
    conn_->send(text_message(make_payload("one")));
    EXPECT_EQ(io_side_.sent, std::vector<std::string>{"one"});
    EXPECT_TRUE(conn_->writer_running());
    EXPECT_EQ(io_side_.writers_started, 0) << "no writer: the write is under way";
    EXPECT_FALSE(conn_->writer_has_work()) << "when it is out, nothing is left for a writer";

    conn_->send(text_message(make_payload("two")));
    EXPECT_EQ(io_side_.sent, std::vector<std::string>{"one"}) << "not offered: it would go around the write";
    EXPECT_EQ(io_side_.writers_started, 0);
    EXPECT_TRUE(conn_->writer_has_work()) << "a writer must take over when the write is out";
    EXPECT_EQ(drain(), std::vector<std::string>{"two"});  // the writer that took over
    EXPECT_FALSE(conn_->writer_running());

    conn_->send(text_message(make_payload("three")));
    EXPECT_EQ(io_side_.sent, (std::vector<std::string>{"one", "three"})) << "idle again: at once";
    conn_->close(1000, "done");
    EXPECT_EQ(io_side_.writers_started, 0) << "the write in flight is the writer";
    EXPECT_TRUE(conn_->writer_has_work()) << "the close frame is left for a writer";
    conn_->close_frame_started();
    EXPECT_FALSE(conn_->writer_has_work());
    conn_->writer_done(false);
}

TEST_F(connection_pushes, nothing_is_sent_at_once_while_a_writer_runs)
{
    conn_->send(text_message(make_payload("one")));  // the session could not: a writer runs
    ASSERT_EQ(io_side_.writers_started, 1);
    io_side_.answer = session_io::sent_now::whole;
    conn_->send(text_message(make_payload("two")));
    EXPECT_TRUE(io_side_.sent.empty()) << "it would go around the message the writer is writing";
    EXPECT_EQ(drain(), (std::vector<std::string>{"one", "two"}));

    conn_->send(text_message(make_payload("three")));
    EXPECT_EQ(io_side_.sent, std::vector<std::string>{"three"}) << "the writer is done: idle again";
}

// send_copy: a message the caller only lends (a reply encoded on its stack, an echo of the
// message being read) takes the same two paths as send, and the one that waits holds a copy of
// its own.
TEST_F(connection_pushes, a_lent_message_for_an_idle_session_leaves_at_once_and_one_behind_a_writer_waits_as_a_copy)
{
    io_side_.answer = session_io::sent_now::whole;
    std::string text = "reply";
    conn_->send_copy(text, false);
    conn_->send_copy("\x01\x02", true);
    EXPECT_EQ(io_side_.sent, (std::vector<std::string>{"reply", "\x01\x02"}));
    EXPECT_EQ(io_side_.sent_binary, (std::vector<bool>{false, true}));
    EXPECT_EQ(io_side_.writers_started, 0);
    EXPECT_FALSE(conn_->has_queued());

    io_side_.answer = session_io::sent_now::no;
    conn_->send(text_message(make_payload("push")));  // the session cannot: a writer starts
    ASSERT_EQ(io_side_.writers_started, 1);
    text = "second";
    conn_->send_copy(text, true);
    text = "overwritten by the caller";
    EXPECT_EQ(conn_->next_message().size(), 4u);  // "push", still the head
    conn_->message_written();
    auto const waiting = conn_->next_message();
    EXPECT_EQ(*waiting.payload, "second");
    EXPECT_TRUE(waiting.binary);
    conn_->message_written();
    conn_->writer_done(false);
}

TEST_F(connection_pushes, a_lent_message_after_close_is_dropped)
{
    conn_->close(1000, "done");
    io_side_.answer = session_io::sent_now::whole;
    conn_->send_copy("late", true);
    EXPECT_TRUE(io_side_.sent.empty());
    EXPECT_FALSE(conn_->has_queued());
}

TEST_F(connection_pushes, a_session_that_cannot_send_at_once_gets_a_writer)
{
    conn_->send(text_message(make_payload("one")));  // recording_io answers `no` by default
    EXPECT_EQ(io_side_.writers_started, 1);
    EXPECT_EQ(drain(), std::vector<std::string>{"one"});
}

// An end asked from outside (the admin endpoint, shutdown) while the session's handshake is under
// way: the session is already counted among those ended, so the end waits for the handshake (a
// writer or an abort now would cut into it) and is carried out as the session opens. It was
// dropped: the admin endpoint answered "closed 1" and the session went on.
class connection_in_handshake : public connection_test {
protected:
    void run() { io_.poll(); }
};

TEST_F(connection_in_handshake, a_close_asked_during_the_handshake_is_carried_out_when_the_session_opens)
{
    conn_->upgrade_accepted();
    conn_->close_websocket(1012, "service restart");
    run();
    EXPECT_FALSE(conn_->pending_close().has_value());
    EXPECT_EQ(io_side_.writers_started, 0) << "nothing is written during the handshake";
    conn_->websocket_opened();
    ASSERT_TRUE(conn_->pending_close().has_value());
    EXPECT_EQ(conn_->pending_close()->code, 1012);
    EXPECT_EQ(conn_->pending_close()->reason, "service restart");
    EXPECT_EQ(io_side_.writers_started, 1) << "the writer sends the close frame";
    EXPECT_FALSE(conn_->accepting());
}

TEST_F(connection_in_handshake, a_drop_asked_during_the_handshake_is_carried_out_when_the_session_opens)
{
    conn_->upgrade_accepted();
    conn_->close_websocket(1012, "service restart");
    conn_->abort_websocket("dropped by an administrator");  // the drop wins over the close
    run();
    EXPECT_EQ(io_side_.aborts, 0);
    conn_->websocket_opened();
    EXPECT_EQ(io_side_.aborts, 1);
    EXPECT_EQ(conn_->end_reason(), "dropped by an administrator");
}

TEST_F(connection_in_handshake, an_http_connection_is_left_alone_and_later_upgrades_untouched)
{
    conn_->close_websocket(1012, "service restart");  // not upgrading: an HTTP request under way
    conn_->abort_websocket("dropped by an administrator");
    run();
    conn_->upgrade_accepted();
    conn_->websocket_opened();
    EXPECT_FALSE(conn_->pending_close().has_value());
    EXPECT_EQ(io_side_.aborts, 0);
    EXPECT_TRUE(conn_->accepting());
}

}  // namespace
}  // namespace coropush::net
