// The batch's bounds and storage.
#include "net/write_batch.hpp"

#include <algorithm>

namespace coropush::net {

write_batch::plan write_batch::plan_for(std::size_t bytes) const noexcept
{
    // The write that would make the batch `max_writes` long, or push the copy past `max_bytes`, is
    // not copied: it leaves with what is held instead; so does any large write.
    bool const fits = writes_ + 1 < limits_.max_writes && bytes <= limits_.max_write_held &&
                      held_.size() + bytes <= limits_.max_bytes;
    if (open_ && fits)
        return plan::hold;
    return empty() ? plan::pass : plan::send_all;
}

void write_batch::reserve_for(std::size_t bytes)
{
    // The first write of a batch reserves a small block (a lone frame of a fan-out needs no more),
    // and the vector doubles from there: a batch of small replies costs one or two allocations.
    constexpr std::size_t first_block = 1024;
    if (held_.capacity() == 0)
        held_.reserve(std::min(limits_.max_bytes, std::max(bytes, first_block)));
}

void write_batch::append(boost::asio::const_buffer piece)
{
    auto const* const begin = static_cast<char const*>(piece.data());
    held_.insert(held_.end(), begin, begin + piece.size());
}

void write_batch::consume(std::size_t bytes) noexcept
{
    if (bytes >= held_.size())
        return clear();
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(bytes));
}

void write_batch::clear() noexcept
{
    std::vector<char>().swap(held_);
    writes_ = 0;
}

}  // namespace coropush::net
