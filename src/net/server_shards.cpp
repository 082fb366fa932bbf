// The server's shards: a strand per io thread, or the io_context itself on one thread.
#include "net/server_shards.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <thread>

namespace coropush::net {
namespace asio = boost::asio;

namespace {

std::vector<asio::any_io_executor> shard_executors(asio::io_context& io, unsigned threads)
{
    // One thread is already an implicit strand, and skipping the strand's queue and lock is the
    // cheapest handler dispatch there is.
    if (threads == 1)
        return {io.get_executor()};
    // 0, not resolved by the caller (main resolves it): strands, which are safe however many
    // threads turn out to run the io_context, one per hardware thread as --threads 0 means.
    if (threads == 0)
        threads = std::max(2u, std::thread::hardware_concurrency());
    std::vector<asio::any_io_executor> executors;
    executors.reserve(threads);
    for (unsigned i = 0; i < threads; ++i)
        executors.emplace_back(asio::make_strand(io));
    return executors;
}

}  // namespace

server_shards::server_shards(asio::io_context& io, unsigned threads)
    : executors_(shard_executors(io, threads)),
      one_thread_(threads == 1)
{
}

void server_shards::run(std::size_t index, std::function<void()> part)
{
    // Not dispatch on a strand: a part run at once by a session on the shard would overtake the
    // parts already waiting there (handed over from other threads), and the backend's messages,
    // published one after the other over two HTTP connections, could then arrive reversed.
    if (one_thread_)
        asio::dispatch(executors_.at(index), std::move(part));
    else
        asio::post(executors_.at(index), std::move(part));
}

}  // namespace coropush::net
