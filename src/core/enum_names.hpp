// The enumerator names of an enum described with BOOST_DESCRIBE_ENUM, indexed by value: the labels
// /metrics gives the codes it counts (metrics::render's code_labels).
#pragma once

#include <boost/describe/enumerators.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace coropush {

template <class Enum>
constexpr std::size_t enumerator_count() noexcept
{
    return boost::mp11::mp_size<boost::describe::describe_enumerators<Enum>>::value;
}

// Enum's names in an array that lives as long as the program; the enumerators are 0, 1, 2...
template <class Enum>
std::span<std::string_view const> enumerator_names() noexcept
{
    static std::array<std::string_view, enumerator_count<Enum>()> const names = [] {
        std::array<std::string_view, enumerator_count<Enum>()> all{};
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<Enum>>(
            [&](auto d) { all.at(static_cast<std::size_t>(d.value)) = d.name; });
        return all;
    }();
    return names;
}

}  // namespace coropush
