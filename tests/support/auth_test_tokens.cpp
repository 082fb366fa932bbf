// Test keys from OpenSSL 3's one-call key generation, tokens from libjwt's encoder.
#include "support/auth_test_tokens.hpp"

#include <jwt.h>
#include <openssl/evp.h>
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

std::string craft(std::string_view header_json, std::string_view payload_json, std::string_view signature)
{
    return base64url(header_json) + "." + base64url(payload_json) + "." + base64url(signature);
}

}  // namespace coropush::auth::test_tokens
