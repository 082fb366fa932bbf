// Throwaway TLS certificates for tests: a certificate authority made when the test starts and a
// server certificate it signed, as PEM files in a directory of their own.
#pragma once

#include "client/ws_client.hpp"
#include "config/options.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace coropush::testing {

class test_certificates {
public:
    // A new CA named `ca_name`, and a certificate for localhost and 127.0.0.1 signed by it.
    explicit test_certificates(std::string const& ca_name = "coropush test CA");
    ~test_certificates();  // removes the directory
    test_certificates(test_certificates const&) = delete;
    test_certificates& operator=(test_certificates const&) = delete;

    std::filesystem::path const& directory() const noexcept { return directory_; }
    std::filesystem::path ca_file() const { return directory_ / "ca.pem"; }      // what clients trust
    std::filesystem::path cert_file() const { return directory_ / "cert.pem"; }  // the server's
    std::filesystem::path key_file() const { return directory_ / "key.pem"; }    // its key, mode 0600

private:
    std::filesystem::path directory_;
};

// test_options() with TLS on, presenting `certificates`' server certificate.
server_options tls_test_options(test_certificates const& certificates);

// Client options for wss:// to the test server on `port`, trusting the CA of `certificates`.
client::connect_options wss_options(std::uint16_t port, test_certificates const& certificates);

}  // namespace coropush::testing
