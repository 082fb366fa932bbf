// Test keys from OpenSSL 3's one-call key generation, tokens from libjwt's encoder (and, for
// payloads libjwt cannot write, signed here with OpenSSL).
#include "support/auth_test_tokens.hpp"

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace coropush::auth::test_tokens {
namespace {
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

template <typename Write>
std::string pem_of(Write write)
{
    bio_ptr const bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || write(bio.get()) != 1)
        throw std::runtime_error("cannot write a PEM key");
    char* data = nullptr;
    long const size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

key_pair pem_pair(EVP_PKEY* generated)
{
    pkey_ptr const key(generated, &EVP_PKEY_free);
    if (!key)
        throw std::runtime_error("cannot generate a key");
    return {pem_of([&](BIO* bio) {
                return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
            }),
            pem_of([&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key.get()); })};
}

std::string base64url(std::string_view bytes)
{
    std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int const size =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                        reinterpret_cast<unsigned char const*>(bytes.data()), static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(size));
    while (!text.empty() && text.back() == '=')
        text.pop_back();
    for (char& c : text)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text;
}

}  // namespace

key_pair const& rsa_key()
{
    static key_pair const key = pem_pair(EVP_RSA_gen(2048));
    return key;
}

key_pair const& other_rsa_key()
{
    static key_pair const key = pem_pair(EVP_RSA_gen(2048));
    return key;
}

key_pair const& ec_key()
{
    static key_pair const key = pem_pair(EVP_EC_gen("P-256"));
    return key;
}

key_pair const& other_ec_key()
{
    static key_pair const key = pem_pair(EVP_EC_gen("P-256"));
    return key;
}

std::string sign(std::string_view algorithm, std::string_view key, std::string const& claims_json)
{
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0)
        throw std::runtime_error("jwt_new failed");
    std::unique_ptr<jwt_t, decltype(&jwt_free)> const token(raw, &jwt_free);
    jwt_alg_t const alg = jwt_str_alg(std::string(algorithm).c_str());
    auto const* key_bytes = key.empty() ? nullptr : reinterpret_cast<unsigned char const*>(key.data());
    if (jwt_add_grants_json(token.get(), claims_json.c_str()) != 0 ||
        jwt_set_alg(token.get(), alg, key_bytes, static_cast<int>(key.size())) != 0)
        throw std::runtime_error("cannot make a token with " + claims_json);
    std::unique_ptr<char, decltype(&std::free)> const text(jwt_encode_str(token.get()), &std::free);
    if (!text)
        throw std::runtime_error("jwt_encode_str failed");
    return text.get();
}

std::string sign_exactly(std::string_view algorithm, std::string_view key, std::string_view payload_json)
{
    std::string const input =
        base64url(R"({"alg":")" + std::string(algorithm) + R"(","typ":"JWT"})") + "." + base64url(payload_json);
    auto const* data = reinterpret_cast<unsigned char const*>(input.data());
    if (algorithm == "HS256") {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, input.size(), mac, &length) == nullptr)
            throw std::runtime_error("HMAC failed");
        return input + "." + base64url(std::string_view(reinterpret_cast<char const*>(mac), length));
    }
    bio_ptr const in(BIO_new_mem_buf(key.data(), static_cast<int>(key.size())), &BIO_free);
    pkey_ptr const private_key(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr) : nullptr,
                               &EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> const context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t length = 0;
    if (!private_key || !context ||
        EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, private_key.get()) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length, data, input.size()) != 1)
        throw std::runtime_error("cannot sign with this key");
    std::string signature(length, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                       input.size()) != 1)
        throw std::runtime_error("cannot sign with this key");
    signature.resize(length);
    if (algorithm == "ES256") {  // DER to JWS: R and S, 32 bytes each
        auto const* der = reinterpret_cast<unsigned char const*>(signature.data());
        std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> const sig(
            d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())), &ECDSA_SIG_free);
        std::string raw(64, '\0');
        if (!sig || BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32) != 32 ||
            BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) != 32)
            throw std::runtime_error("cannot convert an ECDSA signature");
        signature = std::move(raw);
    }
    return input + "." + base64url(signature);
}

std::string craft(std::string_view header_json, std::string_view payload_json, std::string_view signature)
{
    return base64url(header_json) + "." + base64url(payload_json) + "." + base64url(signature);
}

}  // namespace coropush::auth::test_tokens
