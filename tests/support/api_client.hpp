// A backend's side of the server API, for the tests: one request over a fresh connection, with
// the key, and its answer with the body parsed (every API answer is JSON).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace coropush::testing {

struct api_reply {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    boost::json::value body;

    // The error's code ("" when the answer is not an error).
    std::string error_code() const;
};

// `method` "GET" sends no body; anything else sends `body` as application/json.
boost::asio::awaitable<api_reply> call_api(std::uint16_t port, std::string key, std::string method, std::string target,
                                           std::string body = {});

// POST /api/jobs with `body`; returns the new job's id (the answer must be 201).
boost::asio::awaitable<std::string> create_backend_job(std::uint16_t port, std::string key, std::string body);

}  // namespace coropush::testing
