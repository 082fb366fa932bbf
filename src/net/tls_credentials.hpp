// The server's certificate and key (--tls-cert, --tls-key) as the TLS context new connections
// use, and its reload on SIGHUP. Asio's SSL headers stay in the .cpp: this header is included
// wherever the server state is.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace coropush::net {

class tls_credentials {
public:
    // Loads the certificate chain and the key now; throws std::runtime_error naming the file and
    // what is wrong with it (unreadable, not PEM, a key that does not match, a key file other
    // users may read).
    tls_credentials(std::string cert_file, std::string key_file);
    ~tls_credentials();
    tls_credentials(tls_credentials const&) = delete;
    tls_credentials& operator=(tls_credentials const&) = delete;

    // The context a new connection does its handshake with (any thread). A session keeps the one
    // it started with for its whole life, whatever reloads happen meanwhile.
    std::shared_ptr<boost::asio::ssl::context> current() const;

    // Loads the files again and, when they are good, hands the new context to connections
    // accepted from now on (any thread; the files are read on the calling thread). When they are
    // not, the old certificate stays, and the reason is returned.
    std::optional<std::string> reload();

    // What the current certificate is, for the log: "CN=example.com, valid until Jun  1
    // 12:00:00 2026 GMT, from cert.pem".
    std::string description() const;

private:
    std::string cert_file_;
    std::string key_file_;
    mutable std::mutex mutex_;
    std::shared_ptr<boost::asio::ssl::context> context_;  // guarded by mutex_
    std::string description_;                             // guarded by mutex_
};

}  // namespace coropush::net
