// A Redis reply as a plain value, copied out of hiredis's before hiredis frees it, so that a
// coroutine can look at it after the callback has returned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct redisReply;  // hiredis

namespace coropush::pubsub {

struct redis_reply {
    // `none`: no reply (the connection went away first, or the command was not sent).
    enum class kind { none, nil, error, status, integer, string, array };
    kind what = kind::none;
    long long integer = 0;
    std::string text;                   // string, status and error replies
    std::vector<redis_reply> elements;  // array replies

    static redis_reply copy_of(redisReply const* reply);

    bool is_string() const noexcept { return what == kind::string || what == kind::status; }
    // An integer reply, or a string reply that holds one; 0 otherwise.
    std::int64_t number() const noexcept;
    // elements[i], or a `none` reply when there is no such element.
    redis_reply const& at(std::size_t i) const noexcept;
};

}  // namespace coropush::pubsub
