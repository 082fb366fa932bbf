// Static files and operational endpoints.
#include "net/http_routes.hpp"

#include "auth/bearer_token.hpp"
#include "auth/same_secret.hpp"
#include "auth/token_errc.hpp"
#include "core/enum_names.hpp"
#include "net/static_files.hpp"
#include "protocol/errc.hpp"

#include <boost/beast/core/file.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/url/parse.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace coropush::net {
namespace http = boost::beast::http;
namespace beast = boost::beast;

namespace {
constexpr char server_name[] = "coropush";

// The codes /metrics counts by name; core's metrics has room for so many of each.
static_assert(enumerator_count<protocol::errc>() <= metrics::max_error_codes);
static_assert(enumerator_count<auth::token_errc>() <= metrics::max_token_errors);

// The response behind text_response, for a caller that needs to adjust a header.
http::response<http::string_body> text_message(http::status status, std::string body, unsigned version, bool keep_alive,
                                               bool head_only = false)
{
    http::response<http::string_body> response{status, version};
    response.set(http::field::server, server_name);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed)
        response.set(http::field::allow, "GET, HEAD");  // what every path but /admin/ takes
    if (status == http::status::unauthorized)
        response.set(http::field::www_authenticate, "Bearer");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    if (head_only)
        response.body().clear();  // Content-Length stays: it describes what GET would send
    return response;
}

http::message_generator serve_file(http_request const& request, http_context const& context)
{
    bool const head = request.method() == http::verb::head;
    auto const path = decode_target_path(request.target());
    bool directory = false;
    auto const file = path ? resolve_web_path(context.web_root, *path, &directory) : std::nullopt;
    if (file && directory && !path->ends_with('/')) {
        // "/docs" is the directory's page, whose relative links ("app.js") mean "/docs/app.js"
        // only under "/docs/": send the browser there, as nginx and Apache do.
        // One leading slash, whatever the target had: "//host/" would send the browser to a host.
        auto const target = request.target();
        auto const query = target.find('?');
        auto const raw_path = target.substr(0, query);
        std::string location = "/" + std::string(raw_path.substr(raw_path.find_first_not_of('/'))) + "/";
        if (query != std::string_view::npos)
            location += target.substr(query);
        auto response = text_message(http::status::moved_permanently, "moved to " + location + "\n", request.version(),
                                     request.keep_alive(), head);
        response.set(http::field::location, location);
        return http::message_generator(std::move(response));
    }
    http::file_body::value_type body;
    beast::error_code ec;
    if (file)
        body.open(file->c_str(), beast::file_mode::scan, ec);
    if (!file || ec)
        return text_response(http::status::not_found, "not found\n", request.version(), request.keep_alive(), head);

    // The validators of the file opened (not of the path, which may have changed since): the
    // browser revalidates on each use (no-cache) and gets a 304 while the file is unchanged.
    struct ::stat status {};
    if (::fstat(body.file().native_handle(), &status) != 0)
        return text_response(http::status::not_found, "not found\n", request.version(), request.keep_alive(), head);
    auto const size = body.size();
    auto const etag = entity_tag(size, std::int64_t{status.st_mtim.tv_sec} * 1'000'000'000 + status.st_mtim.tv_nsec);
    auto const modified = http_date(status.st_mtim.tv_sec);

    // The same header for GET and HEAD (RFC 9110 9.3.2); HEAD's has no body after it. A 304 has
    // the validators and Cache-Control a 200 would have (RFC 9110 15.4.5), and no body.
    auto const with_header = [&](auto response) {
        response.set(http::field::server, server_name);
        response.set(http::field::cache_control, "no-cache");
        response.set(http::field::etag, etag);
        if (!modified.empty())
            response.set(http::field::last_modified, modified);
        if (response.result() == http::status::ok) {
            response.set(http::field::content_type, mime_type(*file));
            response.content_length(size);
        }
        response.keep_alive(request.keep_alive());
        return http::message_generator(std::move(response));
    };
    if (not_modified(request[http::field::if_none_match], request[http::field::if_modified_since], etag, modified))
        return with_header(http::response<http::empty_body>{http::status::not_modified, request.version()});
    if (head)
        return with_header(http::response<http::empty_body>{http::status::ok, request.version()});
    return with_header(http::response<http::file_body>{std::piecewise_construct, std::make_tuple(std::move(body)),
                                                       std::make_tuple(http::status::ok, request.version())});
}

// How /admin/disconnect ends the sessions: close (the default) or drop.
enum class disconnect_how { close, drop };

// The `how` query parameter of the admin request, read by a URL parser: only a parameter named
// exactly `how` counts, not "how=drop" inside another one. Nothing when it is not close or drop.
std::optional<disconnect_how> read_disconnect_how(std::string_view target)
{
    auto const url = boost::urls::parse_origin_form(target);
    if (!url)
        return std::nullopt;
    auto const params = url->params();
    if (params.count("how") > 1)
        return std::nullopt;  // two answers to one question
    auto const how = params.find("how");
    if (how == params.end())
        return disconnect_how::close;
    auto const value = (*how).value;
    if (value == "close")
        return disconnect_how::close;
    if (value == "drop")
        return disconnect_how::drop;
    return std::nullopt;
}

http::message_generator admin(http_request const& request, std::string_view path, http_context const& context)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    bool const head = request.method() == http::verb::head;  // every answer but the POST's may be to a HEAD
    if (context.admin_token.empty() || path != "/admin/disconnect")
        return text_response(http::status::not_found, "not found\n", version, keep_alive, head);
    auto const given =
        auth::request_bearer_token(request.count(http::field::authorization), request[http::field::authorization]);
    if (given.repeated)
        return text_response(http::status::bad_request, "more than one Authorization header\n", version, keep_alive,
                             head);
    if (!given.token || !auth::same_secret(*given.token, context.admin_token))
        return text_response(http::status::unauthorized, "missing or wrong bearer token\n", version, keep_alive, head);
    if (request.method() != http::verb::post) {
        auto response = text_message(http::status::method_not_allowed, "use POST\n", version, keep_alive, head);
        response.set(http::field::allow, "POST");
        return response;
    }
    auto const how = read_disconnect_how(request.target());
    if (!how)
        return text_response(http::status::bad_request, "expects ?how=close (the default) or ?how=drop, at most once\n",
                             version, keep_alive);
    bool const drop = *how == disconnect_how::drop;
    auto const count = context.disconnect_all(drop);
    return text_response(http::status::ok,
                         (drop ? "dropped " : "closed ") + std::to_string(count) + " WebSocket session(s)\n", version,
                         keep_alive);
}

}  // namespace

http::message_generator text_response(http::status status, std::string body, unsigned version, bool keep_alive,
                                      bool head_only)
{
    return text_message(status, std::move(body), version, keep_alive, head_only);
}

http::message_generator route_http(http_request const& request, http_context const& context)
{
    auto const version = request.version();
    auto const keep_alive = request.keep_alive();
    auto const target = request.target();
    auto const path = target.substr(0, target.find('?'));
    if (path.starts_with("/admin/"))
        return admin(request, path, context);
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
        response.body() =
            context.stats.render({enumerator_names<protocol::errc>(), enumerator_names<auth::token_errc>()});
        response.prepare_payload();
        if (head)
            response.body().clear();
        return response;
    }
    return serve_file(request, context);
}

}  // namespace coropush::net
