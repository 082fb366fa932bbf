// The load tool's TLS client context: TLS 1.2 or 1.3 (1.3 with coropush), the server's
// certificate verified against a CA file unless --tls-no-verify said not to.
#include "load/tls_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/ssl.h>

namespace bench {
namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_tls_context(std::string const& ca_file, std::string const& host, std::string& error)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (ca_file.empty()) {
        context->set_verify_mode(ssl::verify_none);
        return context;
    }
    boost::system::error_code ec;
    context->load_verify_file(ca_file, ec);
    if (ec) {
        error = "--tls-ca " + ca_file + ": " + ec.message();
        return nullptr;
    }
    context->set_verify_mode(ssl::verify_peer);
    // The certificate must name the address connected to (a subjectAltName IP entry).
    context->set_verify_callback(ssl::host_name_verification(host));
    return context;
}

}  // namespace bench
