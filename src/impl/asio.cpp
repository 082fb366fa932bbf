// Boost.Asio's non-template code, compiled once for the whole project
// (BOOST_ASIO_SEPARATE_COMPILATION is set for every target that links coropush), its TLS layer
// on OpenSSL included.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
