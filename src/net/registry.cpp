// The connection table.
#include "net/registry.hpp"

#include "net/connection.hpp"

namespace coropush::net {

connection_registry::entry::entry(connection_registry& registry, std::shared_ptr<connection> const& c)
    : registry_(&registry),
      id_(c->id())
{
    registry_->add(c);
}

connection_registry::entry::~entry()
{
    if (registry_)
        registry_->remove(id_);
}

void connection_registry::add(std::shared_ptr<connection> const& c)
{
    std::lock_guard lock(mutex_);
    connections_.emplace(c->id(), c);
}

void connection_registry::remove(std::uint64_t id)
{
    std::function<void(std::size_t)> callback;
    std::size_t remaining = 0;
    {
        std::lock_guard lock(mutex_);
        connections_.erase(id);
        remaining = connections_.size();
        callback = on_remove_;
    }
    if (callback)
        callback(remaining);
}

std::vector<std::shared_ptr<connection>> connection_registry::snapshot() const
{
    std::vector<std::shared_ptr<connection>> all;
    std::lock_guard lock(mutex_);
    all.reserve(connections_.size());
    for (auto const& [id, weak] : connections_)
        if (auto c = weak.lock())
            all.push_back(std::move(c));
    return all;
}

std::size_t connection_registry::size() const
{
    std::lock_guard lock(mutex_);
    return connections_.size();
}

void connection_registry::on_remove(std::function<void(std::size_t)> callback)
{
    std::lock_guard lock(mutex_);
    on_remove_ = std::move(callback);
}

}  // namespace coropush::net
