// Walks a parsed document for numbers that are not finite.
#include "core/json_numbers.hpp"

#include <boost/json/value.hpp>

#include <cmath>

namespace coropush {

// Recursive, without an allocation: a parsed document nests at most as deep as the parser allows
// (Boost.JSON's default, 32 levels, which every parse in the server keeps).
bool finite_numbers_only(boost::json::value const& document) noexcept
{
    // Only a double can be infinite (an integer that does not fit 64 bits is read as a double).
    if (document.is_double())
        return std::isfinite(document.get_double());
    if (auto const* object = document.if_object()) {
        for (auto const& member : *object)
            if (!finite_numbers_only(member.value()))
                return false;
    } else if (auto const* array = document.if_array()) {
        for (auto const& element : *array)
            if (!finite_numbers_only(element))
                return false;
    }
    return true;
}

}  // namespace coropush
