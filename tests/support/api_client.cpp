// Calling the server API from a test.
#include "support/api_client.hpp"

#include "support/raw_connection.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

namespace coropush::testing {

std::string api_reply::error_code() const
{
    auto const* object = body.if_object();
    auto const* error = object ? object->if_contains("error") : nullptr;
    return error ? std::string(error->at("code").as_string()) : std::string();
}

boost::asio::awaitable<api_reply> call_api(std::uint16_t port, std::string key, std::string method, std::string target,
                                           std::string body)
{
    bool const with_body = method != "GET";
    std::string request = std::move(method);
    request.append(" ").append(target).append(" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ").append(key);
    request += "\r\n";
    if (with_body)
        request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n";
    if (with_body)
        request += body;
    auto connection = co_await raw_connection::connect(port);
    co_await connection.write(request);
    auto reply = co_await connection.read_http();
    api_reply answer;
    answer.status = reply.status;
    answer.headers = std::move(reply.headers);
    answer.body = boost::json::parse(reply.body);
    co_return answer;
}

boost::asio::awaitable<std::string> create_backend_job(std::uint16_t port, std::string key, std::string body)
{
    auto const created = co_await call_api(port, std::move(key), "POST", "/api/jobs", std::move(body));
    require(created.status == 201, "the job was created (201)");
    co_return std::string(created.body.at("job").as_string());
}

}  // namespace coropush::testing
