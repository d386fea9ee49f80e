#include <catch2/catch.hpp>

#include "hsm/software_wrap.h"
#include "tests/hsm/crypto_check.h"

using namespace byok::hsm;
using byok::ErrorKind;

namespace {
std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("software: raw AES keys wrap with every method and hash, and unwrap to the same bytes") {
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());
  std::size_t len = GENERATE(16u, 32u);
  auto raw = test::random_bytes(len);
  auto key = software_key_from_bytes(raw);
  REQUIRE(key.ok());
  CHECK(key->type == (len == 16 ? KeyType::Aes128Gcm96 : KeyType::Aes256Gcm96));
  for (WrapMethod m : {WrapMethod::RsaOaep, WrapMethod::RsaAesKeyWrap}) {
    for (OaepHash h : {OaepHash::Sha1, OaepHash::Sha256}) {
      WrapSpec spec{m, h, 0};
      INFO(describe(spec));
      auto blob = software_wrap(key.value(), spec, der);
      REQUIRE(blob.ok());
      auto out = m == WrapMethod::RsaOaep ? test::oaep_decrypt(kek.get(), h, blob.value())
                                          : test::unwrap_rsa_aes(kek.get(), h, blob.value());
      REQUIRE(out.has_value());
      CHECK(*out == raw);
      // The other hash must not decrypt it.
      OaepHash other = h == OaepHash::Sha1 ? OaepHash::Sha256 : OaepHash::Sha1;
      auto wrong = m == WrapMethod::RsaOaep ? test::oaep_decrypt(kek.get(), other, blob.value())
                                            : test::unwrap_rsa_aes(kek.get(), other, blob.value());
      CHECK_FALSE(wrong.has_value());
    }
  }
}

TEST_CASE("software: private keys (PEM and DER, incl. Ed25519) wrap as exact PKCS#8") {
  KeyType type = GENERATE(KeyType::Rsa2048, KeyType::EcdsaP256, KeyType::EcdsaP384,
                          KeyType::EcdsaP521, KeyType::Ed25519);
  INFO(key_type_name(type));
  auto priv = test::generate_for(type);
  auto kek = test::generate_rsa(3072);
  auto der = test::public_der(kek.get());
  for (bool pem : {true, false}) {
    auto file = pem ? test::private_pem(priv.get()) : [&] {
      auto d = test::private_pkcs8(priv.get());
      return std::string(d.begin(), d.end());
    }();
    auto key = software_key_from_bytes(as_bytes(file));
    REQUIRE(key.ok());
    CHECK(key->type == type);
    WrapSpec spec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
    auto blob = software_wrap(key.value(), spec, der);
    REQUIRE(blob.ok());
    auto out = test::unwrap_rsa_aes(kek.get(), OaepHash::Sha256, blob.value());
    REQUIRE(out.has_value());
    std::size_t trailing = 99;
    auto back = test::parse_pkcs8(*out, &trailing);
    REQUIRE(back);
    CHECK(trailing == 0);  // RFC 5649 padding only: no extra zeros on this path
    CHECK(test::same_private_key(back.get(), priv.get()));
  }
}

TEST_CASE("software: refusals are clear") {
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());
  auto odd = software_key_from_bytes(test::random_bytes(20));
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().kind == ErrorKind::InvalidArgument);
  auto rsa = software_key_from_bytes(as_bytes(test::private_pem(test::generate_rsa(2048).get())));
  REQUIRE(rsa.ok());
  auto direct = software_wrap(rsa.value(), WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0}, der);
  REQUIRE_FALSE(direct.ok());
  CHECK(direct.error().kind == ErrorKind::InvalidArgument);
  auto small =
      software_wrap(rsa.value(), WrapSpec{}, test::public_der(test::generate_rsa(1024).get()));
  REQUIRE_FALSE(small.ok());
  CHECK(small.error().message.find("at least 2048") != std::string::npos);
  auto chacha = software_key_from_bytes(test::random_bytes(32), KeyType::Chacha20Poly1305);
  REQUIRE(chacha.ok());
  CHECK(chacha->type == KeyType::Chacha20Poly1305);
}
