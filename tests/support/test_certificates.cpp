// Test certificates made with OpenSSL 3's C API: an EC P-256 CA and a server certificate with the
// extensions a browser and OpenSSL's verifier insist on (SAN, key usage, CA constraints).
#include "support/test_certificates.hpp"

#include "support/test_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include <cstdlib>

namespace coropush::testing {
namespace {

using owned_key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using owned_certificate = std::unique_ptr<X509, decltype(&X509_free)>;
using owned_file = std::unique_ptr<BIO, decltype(&BIO_free)>;

void check(bool ok, char const* what)
{
    if (!ok)
        throw std::runtime_error(std::string("making a test certificate: ") + what + " failed");
}

void add_extension(X509* certificate, X509* issuer, int nid, char const* value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    check(extension != nullptr, value);
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

// A certificate for `key`, named `common_name`, signed by `issuer_key` (as `issuer`, or itself
// when `issuer` is null: the CA), valid from an hour ago for a week.
owned_certificate make_certificate(EVP_PKEY* key, std::string const& common_name, X509* issuer, EVP_PKEY* issuer_key,
                                   long serial)
{
    owned_certificate certificate(X509_new(), &X509_free);
    check(certificate != nullptr, "X509_new");
    auto* const cert = certificate.get();
    X509_set_version(cert, 2);  // v3
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 7L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_UTF8,
                               reinterpret_cast<unsigned char const*>(common_name.c_str()), -1, -1, 0);
    bool const ca = issuer == nullptr;
    X509* const signer = ca ? cert : issuer;
    X509_set_issuer_name(cert, X509_get_subject_name(signer));
    add_extension(cert, signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert, signer, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_extension(cert, signer, NID_subject_key_identifier, "hash");
    if (!ca) {
        add_extension(cert, signer, NID_authority_key_identifier, "keyid:always");
        add_extension(cert, signer, NID_ext_key_usage, "serverAuth");
        add_extension(cert, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    }
    check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "X509_sign");
    return certificate;
}

void write_certificate(std::filesystem::path const& path, X509* certificate)
{
    owned_file const file(BIO_new_file(path.c_str(), "w"), &BIO_free);
    check(file && PEM_write_bio_X509(file.get(), certificate) == 1, "writing a certificate");
}

void write_key(std::filesystem::path const& path, EVP_PKEY* key)
{
    {
        owned_file const file(BIO_new_file(path.c_str(), "w"), &BIO_free);
        check(file && PEM_write_bio_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
              "writing a key");
    }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

test_certificates::test_certificates(std::string const& ca_name)
{
    auto pattern = (std::filesystem::temp_directory_path() / "coropush-tls-XXXXXX").string();
    check(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
    directory_ = pattern;

    owned_key const ca_key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    owned_key const server_key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    check(ca_key && server_key, "EVP_EC_gen");
    auto const ca = make_certificate(ca_key.get(), ca_name, nullptr, ca_key.get(), 1);
    auto const server = make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), 2);
    write_certificate(ca_file(), ca.get());
    write_certificate(cert_file(), server.get());
    write_key(key_file(), server_key.get());
}

test_certificates::~test_certificates()
{
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

server_options tls_test_options(test_certificates const& certificates)
{
    auto options = test_options();
    options.tls_cert_file = certificates.cert_file().string();
    options.tls_key_file = certificates.key_file().string();
    return options;
}

client::connect_options wss_options(std::uint16_t port, test_certificates const& certificates)
{
    client::connect_options options;
    options.port = port;
    options.tls = true;
    options.ca_file = certificates.ca_file().string();
    return options;
}

}  // namespace coropush::testing
