// Constant-time comparison of secrets.
#include "auth/same_secret.hpp"

#include <cstddef>

namespace coropush::auth {

bool same_secret(std::string_view given, std::string_view expected) noexcept
{
    if (given.size() != expected.size())
        return false;
    // Every byte is looked at and the differences are OR-ed together: no branch depends on the
    // content, so a guess that is right for longer does not answer later.
    unsigned char difference = 0;
    for (std::size_t i = 0; i < given.size(); ++i)
        difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
    return difference == 0;
}

}  // namespace coropush::auth
