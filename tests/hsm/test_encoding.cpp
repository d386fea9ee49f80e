#include <catch2/catch.hpp>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>

#include "hsm/encoding.h"
#include "hsm/kek.h"
#include "hsm/secure_buffer.h"
#include "tests/hsm/crypto_check.h"

using namespace byok::hsm;

namespace {
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("base64 matches the RFC 4648 test vectors, padded and url-safe unpadded") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [in, out] : vectors) {
    CHECK(base64_encode(bytes(in)) == out);
    std::string url = out;
    while (!url.empty() && url.back() == '=') url.pop_back();
    CHECK(base64url_encode(bytes(in)) == url);
    CHECK(base64_decode(out) == bytes(in));
    CHECK(base64_decode(url) == bytes(in));
  }
  const std::vector<std::uint8_t> high = {0xfb, 0xff, 0xbf};
  CHECK(base64_encode(high) == "+/+/");
  CHECK(base64url_encode(high) == "-_-_");
  CHECK(base64_decode("-_-_") == high);
  CHECK(base64_decode("Zm9v\nYmFy") == bytes("foobar"));
  CHECK_FALSE(base64_decode("Zm9v!").has_value());
  CHECK_FALSE(base64_decode("Zg==Zg").has_value());
}

TEST_CASE("hex round-trips and rejects odd or non-hex input") {
  std::vector<std::uint8_t> b = {0x00, 0x0a, 0xff, 0x10};
  CHECK(to_hex(b) == "000aff10");
  CHECK(from_hex("000AFF10") == b);
  CHECK(from_hex("0x000aff10") == b);
  CHECK_FALSE(from_hex("abc").has_value());
  CHECK_FALSE(from_hex("zz").has_value());
}

TEST_CASE("the KEK fingerprint is the SHA-256 of the SubjectPublicKeyInfo DER, PEM or DER input") {
  auto key = test::generate_rsa(2048);
  auto der = test::public_der(key.get());
  std::string pem = test::public_pem(key.get());
  auto from_der = parse_kek(der);
  auto from_pem = parse_kek(bytes(pem));
  REQUIRE(from_der.ok());
  REQUIRE(from_pem.ok());
  CHECK(from_der->spki_der == der);
  CHECK(from_pem->spki_der == der);
  CHECK(from_der->bits == 2048);
  CHECK(from_der->fingerprint_sha256 == to_hex(sha256(der)));
  CHECK(spki_fingerprint_sha256(der).size() == 64);
  // Known vector: SHA-256("abc").
  CHECK(to_hex(sha256(bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a KEK with e != 65537 or an odd size is refused as a weak wrapping key") {
  auto generate = [](unsigned bits, unsigned long exponent) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
    REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, static_cast<int>(bits)) == 1);
    BIGNUM* e = BN_new();
    BN_set_word(e, exponent);
    REQUIRE(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) == 1);
    BN_free(e);
    EVP_PKEY* key = nullptr;
    REQUIRE(EVP_PKEY_keygen(ctx, &key) == 1);
    EVP_PKEY_CTX_free(ctx);
    auto der = test::public_der(key);
    EVP_PKEY_free(key);
    return der;
  };
  auto e3 = parse_kek(generate(2048, 3));
  REQUIRE_FALSE(e3.ok());
  CHECK(e3.error().message.find("WeakWrappingKey") != std::string::npos);
  CHECK(e3.error().message.find("65537") != std::string::npos);
  auto odd = parse_kek(generate(2560, 65537));
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().message.find("RSA-2560") != std::string::npos);
  CHECK(parse_kek(generate(3072, 65537)).ok());
}

TEST_CASE("SecureBuffer wipes the bytes it gives up on shrink") {
  SecureBuffer b(reinterpret_cast<const std::uint8_t*>("secret!!"), 8);
  const std::uint8_t* p = b.data();
  b.shrink(3);
  CHECK(b.view() == "sec");
  for (int i = 3; i < 8; ++i) CHECK(p[i] == 0);
  SecureBuffer moved = std::move(b);
  CHECK(b.empty());
  CHECK(moved.view() == "sec");
}
