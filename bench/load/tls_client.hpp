// The load tool's TLS client context, for wss:// (--tls). Only its declaration: the ssl::context
// itself, and Asio's SSL headers with it, stay in tls_client.cpp and ws_conn.cpp.
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace bench {

// A context every connection of the run shares. With a `ca_file`, the server's certificate must
// chain to it and name `host` (an IP address: the tool connects to one); with an empty
// `ca_file`, nothing is verified: --tls-no-verify, for benchmarking a server whose certificate
// the tool has no CA for. The handshake is the same either way apart from the client's own
// checks. Returns null and says why in `error` when the CA file cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(std::string const& ca_file, std::string const& host,
                                                            std::string& error);

}  // namespace bench
