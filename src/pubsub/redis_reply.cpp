// Copying hiredis's replies.
#include "pubsub/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace coropush::pubsub {

redis_reply redis_reply::copy_of(redisReply const* reply)
{
    redis_reply copy;
    if (reply == nullptr)
        return copy;
    switch (reply->type) {
    case REDIS_REPLY_NIL:
        copy.what = kind::nil;
        break;
    case REDIS_REPLY_ERROR:
        copy.what = kind::error;
        break;
    case REDIS_REPLY_STATUS:
        copy.what = kind::status;
        break;
    case REDIS_REPLY_INTEGER:
        copy.what = kind::integer;
        copy.integer = reply->integer;
        break;
    case REDIS_REPLY_STRING:
        copy.what = kind::string;
        break;
    case REDIS_REPLY_ARRAY:
        copy.what = kind::array;
        copy.elements.reserve(reply->elements);
        for (std::size_t i = 0; i < reply->elements; ++i)
            copy.elements.push_back(copy_of(reply->element[i]));
        break;
    default:
        break;
    }
    if (reply->str != nullptr && reply->type != REDIS_REPLY_ARRAY)
        copy.text.assign(reply->str, reply->len);
    return copy;
}

std::int64_t redis_reply::number() const noexcept
{
    if (what == kind::integer)
        return integer;
    std::int64_t value = 0;
    if (is_string())
        std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

redis_reply const& redis_reply::at(std::size_t i) const noexcept
{
    static redis_reply const missing;
    return i < elements.size() ? elements[i] : missing;
}

}  // namespace coropush::pubsub
