// The table of endpoints and routes, and how a request finds its entry.
#include "core/endpoints.hpp"

#include <algorithm>
#include <stdexcept>

namespace coropush {

void endpoints::add(websocket_endpoint endpoint)
{
    if (endpoint.paths.empty() || !endpoint.make_handler)
        throw std::invalid_argument("WebSocket endpoint '" + endpoint.name + "': no path or no handler");
    for (auto const& path : endpoint.paths) {
        if (path.empty() || path.front() != '/')
            throw std::invalid_argument("WebSocket endpoint '" + endpoint.name + "': path '" + path +
                                        "' does not start with /");
        for (auto const& other : websocket_) {
            bool const same_path = std::find(other.paths.begin(), other.paths.end(), path) != other.paths.end();
            if (same_path && other.subprotocol == endpoint.subprotocol)
                throw std::invalid_argument("WebSocket endpoint '" + endpoint.name + "': " + path +
                                            (endpoint.subprotocol.empty() ? "" : " with " + endpoint.subprotocol) +
                                            " is endpoint '" + other.name + "' already");
        }
    }
    websocket_.push_back(std::move(endpoint));
}

void endpoints::add(http_route route)
{
    if (route.prefix.empty() || route.prefix.front() != '/' || !route.answer || !route.refuse)
        throw std::invalid_argument("HTTP route '" + route.prefix +
                                    "': the prefix must start with /, and it needs "
                                    "an answer and a refusal");
    for (auto const& other : http_)
        if (other.prefix == route.prefix)
            throw std::invalid_argument("HTTP route '" + route.prefix + "' is there already");
    http_.push_back(std::move(route));
}

namespace {

// Whether `offered` (a comma-separated list) names `subprotocol`: one whole element of the list,
// between its commas and optional white space, equal to it byte for byte. Subprotocol names are
// case-sensitive (RFC 6455 4.1), and a browser fails a connection whose answer is not one of its
// offers exactly (Beast's token_list ignores case, and stops a token at the first character that
// cannot be in one: "coropush.v1@x" would have been taken for "coropush.v1").
bool offers_subprotocol(std::string_view offered, std::string_view subprotocol)
{
    auto const trimmed = [](std::string_view element) {
        auto const first = element.find_first_not_of(" \t");
        if (first == std::string_view::npos)
            return std::string_view();
        return element.substr(first, element.find_last_not_of(" \t") - first + 1);
    };
    for (;;) {
        auto const comma = offered.find(',');
        if (trimmed(offered.substr(0, comma)) == subprotocol)
            return true;
        if (comma == std::string_view::npos)
            return false;
        offered.remove_prefix(comma + 1);
    }
}

}  // namespace

websocket_endpoint const* endpoints::websocket_at(std::string_view path, std::string_view offered) const
{
    websocket_endpoint const* without_subprotocol = nullptr;
    for (auto const& endpoint : websocket_) {
        if (std::find(endpoint.paths.begin(), endpoint.paths.end(), path) == endpoint.paths.end())
            continue;
        if (endpoint.subprotocol.empty()) {
            if (without_subprotocol == nullptr)
                without_subprotocol = &endpoint;
        } else if (offers_subprotocol(offered, endpoint.subprotocol)) {
            return &endpoint;
        }
    }
    return without_subprotocol;
}

bool endpoints::has_websocket_path(std::string_view path) const
{
    return std::any_of(websocket_.begin(), websocket_.end(), [path](websocket_endpoint const& endpoint) {
        return std::find(endpoint.paths.begin(), endpoint.paths.end(), path) != endpoint.paths.end();
    });
}

http_route const* endpoints::route_for(std::string_view target) const
{
    auto const path = target.substr(0, target.find('?'));
    http_route const* best = nullptr;
    for (auto const& route : http_) {
        std::string_view const prefix = route.prefix;
        bool const under = path.substr(0, prefix.size()) == prefix ||
                           (prefix.size() > 1 && prefix.back() == '/' && path == prefix.substr(0, prefix.size() - 1));
        if (under && (!best || prefix.size() > best->prefix.size()))
            best = &route;
    }
    return best;
}

std::size_t endpoints::largest_body() const noexcept
{
    std::size_t largest = 0;
    for (auto const& route : http_)
        largest = std::max(largest, route.max_body_bytes);
    return largest;
}

}  // namespace coropush
