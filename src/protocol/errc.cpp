// Wire names of the error codes, straight from their Boost.Describe description.
#include "protocol/errc.hpp"

#include <boost/describe/enum_to_string.hpp>

namespace coropush::protocol {

std::string_view to_string(errc code)
{
    return boost::describe::enum_to_string(code, "internal_error");
}

}  // namespace coropush::protocol
