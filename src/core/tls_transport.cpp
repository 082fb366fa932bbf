// The TLS stream's operations, built once for every TLS session (tls_transport.hpp says why).
#include "core/tls_transport.hpp"

namespace coropush {

void tls_transport::start_read(boost::asio::mutable_buffer into, io_handler handler)
{
    stream_.async_read_some(into, std::move(handler));
}

void tls_transport::start_write(boost::asio::const_buffer bytes, io_handler handler)
{
    stream_.async_write_some(bytes, std::move(handler));
}

}  // namespace coropush
