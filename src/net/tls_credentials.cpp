// The server's TLS context: built from PEM files with the settings docs/security.md lists, and
// swapped for a fresh one on reload.
#include "net/tls_credentials.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace coropush::net {
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

// A certificate chain or a key is a few KiB. A larger file is the wrong one, and reading it all
// would hold up the thread that loads it (an io thread, on reload).
constexpr std::uintmax_t max_pem_bytes = std::uintmax_t{1024} * 1024;

// TLS 1.2 suites: forward secrecy and authenticated encryption only, the "intermediate" profile
// every browser of the last ten years speaks. TLS 1.3 keeps OpenSSL's default suites, which are
// all of that kind.
constexpr char tls12_ciphers[] = "ECDHE+AESGCM:ECDHE+CHACHA20";

[[noreturn]] void refuse_tls_file(std::string_view option, std::string const& path, std::string const& why)
{
    ERR_clear_error();  // what OpenSSL queued about it is in `why`, or of no use to anyone else
    throw std::runtime_error(std::string(option) + " " + path + ": " + why);
}

std::string read_pem_file(std::string_view option, std::string const& path)
{
    std::error_code ec;
    auto const size = std::filesystem::file_size(path, ec);
    if (ec)
        refuse_tls_file(option, path, ec.message());
    if (size > max_pem_bytes)
        refuse_tls_file(option, path, "larger than 1 MiB: not a PEM certificate or key");
    std::ifstream file(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(size), '\0');
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (!file)
        refuse_tls_file(option, path, "cannot read the file");
    return text;
}

// A key that every local user may read is as good as published: refused, as ssh refuses one.
// (A group may read it: Debian's ssl-cert group is the usual way to share a key with a server.)
void check_key_is_private(std::string const& path)
{
    std::error_code ec;
    auto const permissions = std::filesystem::status(path, ec).permissions();
    if (!ec && (permissions & std::filesystem::perms::others_read) != std::filesystem::perms::none)
        refuse_tls_file("--tls-key", path,
                        "readable by every user of this machine; make it private first (chmod o-rwx " + path + ")");
}

std::string describe_certificate(SSL_CTX* native, std::string const& cert_file)
{
    X509* const certificate = SSL_CTX_get0_certificate(native);
    std::unique_ptr<BIO, decltype(&BIO_free)> const text(BIO_new(BIO_s_mem()), &BIO_free);
    if (certificate == nullptr || !text)
        return "from " + cert_file;
    X509_NAME_print_ex(text.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
    BIO_puts(text.get(), ", valid until ");
    ASN1_TIME_print(text.get(), X509_get0_notAfter(certificate));
    char* data = nullptr;
    auto const size = BIO_get_mem_data(text.get(), &data);
    return std::string(data, static_cast<std::size_t>(size)) + ", from " + cert_file;
}

std::shared_ptr<ssl::context> make_server_context(std::string const& cert_file, std::string const& key_file)
{
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* const native = context->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    // No compression (CRIME), no TLS 1.2 renegotiation (a client-driven CPU cost, and nothing
    // here needs it).
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_cipher_list(native, tls12_ciphers);
    // At least 112 bits of security, whatever the system's OpenSSL configuration says: RSA keys of
    // 2048 bits or more, no SHA-1 signatures. A weaker certificate fails to load, saying why.
    SSL_CTX_set_security_level(native, 2);
    // Resumption by tickets only: no per-client session cache that grows with the clients.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    // Nobody is there to type a pass phrase (OpenSSL would ask on the terminal): a protected key
    // fails to load instead.
    context->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });

    // The key first: a certificate loaded after a key that does not match it drops the key, and
    // the check below then says so plainly.
    check_key_is_private(key_file);
    boost::system::error_code ec;
    auto const key = read_pem_file("--tls-key", key_file);
    context->use_private_key(asio::buffer(key), ssl::context::pem, ec);
    if (ec)
        refuse_tls_file("--tls-key", key_file,
                        "no usable private key (expected PEM, -----BEGIN PRIVATE KEY-----, without a pass phrase): " +
                            ec.message());
    auto const chain = read_pem_file("--tls-cert", cert_file);
    context->use_certificate_chain(asio::buffer(chain), ec);
    if (ec)
        refuse_tls_file("--tls-cert", cert_file,
                        "no usable certificate chain (expected PEM, -----BEGIN CERTIFICATE----- blocks, the server's "
                        "own first): " +
                            ec.message());
    if (SSL_CTX_check_private_key(native) != 1)
        refuse_tls_file("--tls-key", key_file, "does not match the certificate in " + cert_file);
    return context;
}

}  // namespace

tls_credentials::tls_credentials(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      context_(make_server_context(cert_file_, key_file_)),
      description_(describe_certificate(context_->native_handle(), cert_file_))
{
}

tls_credentials::~tls_credentials() = default;

std::shared_ptr<ssl::context> tls_credentials::current() const
{
    std::lock_guard const lock(mutex_);
    return context_;
}

std::string tls_credentials::description() const
{
    std::lock_guard const lock(mutex_);
    return description_;
}

std::optional<std::string> tls_credentials::reload()
{
    // Built outside the lock: new connections keep getting the old context meanwhile. Sessions
    // begun with the old one keep it until they end: OpenSSL's connection object holds a
    // reference to its context, so dropping ours here frees nothing they use.
    std::shared_ptr<ssl::context> fresh;
    try {
        fresh = make_server_context(cert_file_, key_file_);
    } catch (std::exception const& e) {
        return std::string(e.what());
    }
    auto description = describe_certificate(fresh->native_handle(), cert_file_);
    std::lock_guard const lock(mutex_);
    context_ = std::move(fresh);
    description_ = std::move(description);
    return std::nullopt;
}

}  // namespace coropush::net
