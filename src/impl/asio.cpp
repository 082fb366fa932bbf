// Boost.Asio's non-template code, compiled once for the whole project
// (BOOST_ASIO_SEPARATE_COMPILATION is set for every target that links coropush).
#include <boost/asio/impl/src.hpp>
