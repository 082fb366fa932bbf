// Static files and operational endpoints.
#include "net/http_routes.hpp"

#include "auth/same_secret.hpp"
#include "net/static_files.hpp"

#include "api/server_api.hpp"

#include <boost/beast/core/file.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>

namespace coropush::net {
namespace http = boost::beast::http;
namespace beast = boost::beast;

namespace {
constexpr char server_name[] = "coropush";

http::message_generator serve_file(http_request const& request, http_context const& context)
{
    bool const head = request.method() == http::verb::head;
    auto const path = decode_target_path(request.target());
    auto const file = path ? resolve_web_path(context.web_root, *path) : std::nullopt;
    http::file_body::value_type body;
    beast::error_code ec;
    if (file)
        body.open(file->c_str(), beast::file_mode::scan, ec);
    if (!file || ec)
        return text_response(http::status::not_found, "not found\n", request.version(), request.keep_alive(), head);

    auto const size = body.size();
    auto const type = mime_type(*file);
    if (head) {
        http::response<http::empty_body> response{http::status::ok, request.version()};
        response.set(http::field::server, server_name);
        response.set(http::field::content_type, type);
        response.content_length(size);
        response.keep_alive(request.keep_alive());
        return response;
    }
    http::response<http::file_body> response{std::piecewise_construct, std::make_tuple(std::move(body)),
                                             std::make_tuple(http::status::ok, request.version())};
    response.set(http::field::server, server_name);
    response.set(http::field::content_type, type);
    response.set(http::field::cache_control, "no-cache");
    response.content_length(size);
    response.keep_alive(request.keep_alive());
    return response;
}

http::message_generator admin(http_request const& request, std::string_view path, http_context const& context)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    if (context.admin_token.empty() || path != "/admin/disconnect")
        return text_response(http::status::not_found, "not found\n", version, keep_alive);
    auto const authorization = request[http::field::authorization];
    if (!authorization.starts_with("Bearer ") || !auth::same_secret(authorization.substr(7), context.admin_token))
        return text_response(http::status::unauthorized, "missing or wrong bearer token\n", version, keep_alive);
    if (request.method() != http::verb::post)
        return text_response(http::status::method_not_allowed, "use POST\n", version, keep_alive);
    auto const target = request.target();
    bool const drop = target.find("how=drop") != std::string_view::npos;
    auto const count = context.disconnect_all(drop);
    return text_response(http::status::ok,
                         (drop ? "dropped " : "closed ") + std::to_string(count) + " WebSocket session(s)\n", version,
                         keep_alive);
}

}  // namespace

http::message_generator text_response(http::status status, std::string body, unsigned version, bool keep_alive,
                                      bool head_only)
{
    http::response<http::string_body> response{status, version};
    response.set(http::field::server, server_name);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed)
        response.set(http::field::allow, "GET, HEAD");
    if (status == http::status::unauthorized)
        response.set(http::field::www_authenticate, "Bearer");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    if (head_only)
        response.body().clear();  // Content-Length stays: it describes what GET would send
    return response;
}

http::message_generator route_http(http_request const& request, http_context const& context)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto const target = request.target();
    auto const path = target.substr(0, target.find('?'));
    if (path.starts_with("/admin/"))
        return admin(request, path, context);
    if (api::is_api_target(path))
        return context.api->handle(request);
    if (request.method() != http::verb::get && request.method() != http::verb::head)
        return text_response(http::status::method_not_allowed, "method not allowed\n", version, keep_alive);

    bool const head = request.method() == http::verb::head;
    if (path == "/healthz")
        return text_response(http::status::ok, "ok\n", version, keep_alive, head);
    if (path == "/readyz") {
        auto const state = context.ready();
        return text_response(state.ready ? http::status::ok : http::status::service_unavailable, state.detail + "\n",
                             version, keep_alive, head);
    }
    if (path == "/metrics") {
        http::response<http::string_body> response{http::status::ok, version};
        response.set(http::field::server, server_name);
        response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response.keep_alive(keep_alive);
        response.body() = context.stats.render();
        response.prepare_payload();
        if (head)
            response.body().clear();
        return response;
    }
    return serve_file(request, context);
}

}  // namespace coropush::net
