// Signature verification with OpenSSL's EVP interface, on the token's bytes as they came.
//
// The check reads nothing of the token but its signing input (header.payload, as sent) and its
// signature: the claims are JSON that the verifier parses itself, after the signature holds. (It
// was libjwt's jwt_decode, which parses the claims with jansson first, and fails a validly signed
// token whose claims jansson refuses, an integer past int64 or a \u0000, as a bad signature.)
#include "auth/jwt_signature.hpp"

#include "auth/base64url.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>

namespace coropush::auth {
namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using openssl_ptr = std::unique_ptr<T, openssl_deleter<T, Free>>;

using bio_ptr = openssl_ptr<BIO, BIO_free_all>;
using key_ptr = openssl_ptr<EVP_PKEY, EVP_PKEY_free>;
using digest_ptr = openssl_ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using ecdsa_ptr = openssl_ptr<ECDSA_SIG, ECDSA_SIG_free>;
using bignum_ptr = openssl_ptr<BIGNUM, BN_free>;

unsigned char const* bytes(std::string_view text) noexcept
{
    return reinterpret_cast<unsigned char const*>(text.data());
}

// RFC 7518 3.2: HMAC-SHA256 with the shared secret, compared in constant time.
bool hmac_verifies(std::string_view signing_input, std::string_view signature, std::string_view secret)
{
    if (secret.size() > INT_MAX)
        return false;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes(signing_input), signing_input.size(),
             mac, &length) == nullptr)
        return false;
    return signature.size() == length && CRYPTO_memcmp(mac, signature.data(), length) == 0;
}

// The PEM public key, when it is of the type the algorithm needs (RSA; EC on P-256).
key_ptr public_key(std::string_view pem, token_algorithm algorithm)
{
    if (pem.size() > INT_MAX)
        return nullptr;
    bio_ptr const in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!in)
        return nullptr;
    key_ptr key(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
    if (!key)
        return nullptr;
    if (algorithm == token_algorithm::rs256)
        return EVP_PKEY_is_a(key.get(), "RSA") == 1 ? std::move(key) : nullptr;
    char curve[64] = {};
    std::size_t length = 0;
    bool const p256 = EVP_PKEY_is_a(key.get(), "EC") == 1 &&
                      EVP_PKEY_get_group_name(key.get(), curve, sizeof curve, &length) == 1 &&
                      std::string_view(curve, length) == "prime256v1";
    return p256 ? std::move(key) : nullptr;
}

// RFC 7518 3.4: an ES256 signature is R and S, 32 bytes each; OpenSSL verifies the DER form.
std::optional<std::string> der_from_jws(std::string_view signature)
{
    if (signature.size() != 64)
        return std::nullopt;
    ecdsa_ptr const sig(ECDSA_SIG_new());
    bignum_ptr r(BN_bin2bn(bytes(signature), 32, nullptr));
    bignum_ptr s(BN_bin2bn(bytes(signature.substr(32)), 32, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
        return std::nullopt;
    (void)r.release();  // owned by `sig` now
    (void)s.release();
    int const length = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (length <= 0)
        return std::nullopt;
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != length)
        return std::nullopt;
    return der;
}

// RFC 7518 3.3 and 3.4: RSASSA-PKCS1-v1_5 or ECDSA, over SHA-256, with the public key.
bool public_key_verifies(std::string_view signing_input, std::string_view signature, EVP_PKEY* key,
                         token_algorithm algorithm)
{
    std::string der;
    if (algorithm == token_algorithm::es256) {
        auto converted = der_from_jws(signature);
        if (!converted)
            return false;
        der = std::move(*converted);
        signature = der;
    }
    digest_ptr const context(EVP_MD_CTX_new());
    return context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
           EVP_DigestVerify(context.get(), bytes(signature), signature.size(), bytes(signing_input),
                            signing_input.size()) == 1;
}

}  // namespace

void signature_key::public_key_free::operator()(evp_pkey_st* key) const noexcept
{
    EVP_PKEY_free(key);
}

signature_key::signature_key(token_algorithm algorithm, std::string_view key)
    : algorithm_(algorithm)
{
    if (algorithm == token_algorithm::hs256) {
        secret_ = key;
        return;
    }
    public_.reset(public_key(key, algorithm).release());
    ERR_clear_error();  // a key that does not parse leaves its reasons in this thread's queue
}

bool signature_key::usable() const noexcept
{
    return algorithm_ == token_algorithm::hs256 ? !secret_.empty() : public_ != nullptr;
}

bool signature_key::verifies(std::string_view token) const
{
    if (!usable())
        return false;
    auto const last_dot = token.rfind('.');
    if (last_dot == std::string_view::npos)
        return false;
    auto const signing_input = token.substr(0, last_dot);  // header.payload, as the client sent them
    auto const signature = decode_base64url(token.substr(last_dot + 1));
    if (!signature || signature->empty())
        return false;
    bool const verified = algorithm_ == token_algorithm::hs256
                              ? hmac_verifies(signing_input, *signature, secret_)
                              : public_key_verifies(signing_input, *signature, public_.get(), algorithm_);
    // A failure leaves OpenSSL's reasons in this thread's error queue, which the TLS code on the
    // same io thread would otherwise find later.
    ERR_clear_error();
    return verified;
}

bool signature_verifies(std::string_view token, token_algorithm algorithm, std::string_view key)
{
    return signature_key(algorithm, key).verifies(token);
}

}  // namespace coropush::auth
