#include <catch2/catch.hpp>

#include "hsm/pkcs11_objects.h"
#include "hsm/wrap_spec.h"
#include "kms/provider_traits.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

using namespace byok::hsm;
using byok::ErrorKind;

namespace {
const WrapSpec kOaepSha1{WrapMethod::RsaOaep, OaepHash::Sha1, 0};
const WrapSpec kRsaAesSha1{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
}  // namespace

TEST_CASE("wrap: AES keys, direct RSA-OAEP SHA-1 and RSA-AES SHA-1, under 2048/3072/4096 KEKs") {
  unsigned kek_bits = GENERATE(2048u, 3072u, 4096u);
  KeyType type = GENERATE(KeyType::Aes128Gcm96, KeyType::Aes256Gcm96);
  WrapSpec spec = GENERATE(kOaepSha1, kRsaAesSha1);
  INFO(key_type_name(type) << " " << describe(spec) << " KEK " << kek_bits);

  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({type, "target", ""}).ok());
  auto kek = test::generate_rsa(kek_bits);
  auto blob = hsm->wrap_key(KeyRef::label("target"), spec, test::public_der(kek.get()));
  REQUIRE(blob.ok());
  std::size_t head = kek_bits / 8;
  if (spec.method == WrapMethod::RsaOaep) {
    CHECK(blob->size() == head);
  } else {
    CHECK(blob->size() == head + key_size(type) + 8);  // KWP of 16/32 bytes adds one block
  }
  CHECK(test::check_wrapped(token, "target", type, spec, kek.get(), blob.value()) == "");
}

TEST_CASE(
    "wrap: RSA and EC private keys, RSA-AES SHA-1, unwrap to PKCS#8 that verifies the token's "
    "signatures") {
  KeyType type = GENERATE(KeyType::Rsa2048, KeyType::Rsa3072, KeyType::Rsa4096, KeyType::EcdsaP256,
                          KeyType::EcdsaP384, KeyType::EcdsaP521);
  INFO(key_type_name(type));
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({type, "target", ""}).ok());
  auto kek = test::generate_rsa(3072);
  auto blob = hsm->wrap_key(KeyRef::label("target"), kRsaAesSha1, test::public_der(kek.get()));
  REQUIRE(blob.ok());
  CHECK(test::check_wrapped(token, "target", type, kRsaAesSha1, kek.get(), blob.value()) == "");

  // SoftHSM 2.6.1 zero-pads the PKCS#8 to a multiple of 8 before KWP: the DER is intact and
  // whatever follows it is zero (fewer than 8 bytes).
  auto material = test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, blob.value());
  REQUIRE(material.has_value());
  std::size_t trailing = 0;
  REQUIRE(test::parse_pkcs8(*material, &trailing));
  CHECK(trailing < 8);
  for (std::size_t i = material->size() - trailing; i < material->size(); ++i)
    CHECK((*material)[i] == 0);
}

TEST_CASE("wrap: a single wrong byte anywhere makes the import check fail") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Aes256Gcm96, "aes", ""}).ok());
  REQUIRE(hsm->generate_key({KeyType::EcdsaP256, "ec", ""}).ok());
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());

  for (const char* label : {"aes", "ec"}) {
    KeyType type = std::string(label) == "aes" ? KeyType::Aes256Gcm96 : KeyType::EcdsaP256;
    auto blob = hsm->wrap_key(KeyRef::label(label), kRsaAesSha1, der);
    REQUIRE(blob.ok());
    REQUIRE(test::check_wrapped(token, label, type, kRsaAesSha1, kek.get(), blob.value()) == "");
    for (std::size_t pos : {std::size_t{0}, std::size_t{255}, std::size_t{256},
                            blob->size() / 2 + 128, blob->size() - 1}) {
      auto bad = blob.value();
      bad[pos] ^= 0x01;
      INFO(label << " flipped byte " << pos);
      CHECK(test::check_wrapped(token, label, type, kRsaAesSha1, kek.get(), bad) != "");
    }
  }

  // A wrong byte in the key itself: the token's ciphertext no longer decrypts.
  auto blob = hsm->wrap_key(KeyRef::label("aes"), kOaepSha1, der);
  REQUIRE(blob.ok());
  auto key = test::oaep_decrypt(kek.get(), OaepHash::Sha1, blob.value());
  REQUIRE(key.has_value());
  auto s = token.raw_session();
  auto iv = test::random_bytes(12);
  const test::Bytes msg = {1, 2, 3, 4, 5};
  auto ct = test::token_gcm_encrypt(*s, test::find_object(*s, CKO_SECRET_KEY, "aes"), iv, msg);
  CHECK(test::gcm_decrypt(*key, iv, ct) == msg);
  (*key)[7] ^= 0x80;
  CHECK_FALSE(test::gcm_decrypt(*key, iv, ct).has_value());
}

TEST_CASE("wrap: by CKA_ID, and the provider formats SoftHSM can serve") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  auto info = hsm->generate_key({KeyType::Aes256Gcm96, "aes", "a1b2"});
  REQUIRE(info.ok());
  auto kek3072 = test::generate_rsa(3072);
  auto der3072 = test::public_der(kek3072.get());

  struct Case {
    const char* name;
    WrapSpec spec;
  };
  const Case cases[] = {
      {"azure .byok", byok::kms::wrap_spec_for("azure", "CKM_RSA_AES_KEY_WRAP").value()},
      {"aws RSAES_OAEP_SHA_1", byok::kms::wrap_spec_for("aws", "RSAES_OAEP_SHA_1").value()},
      {"aws RSA_AES_KEY_WRAP_SHA_1",
       byok::kms::wrap_spec_for("aws", "RSA_AES_KEY_WRAP_SHA_1").value()},
      {"gcp RSA_OAEP_3072_SHA1_AES_256",
       byok::kms::wrap_spec_for("gcp", "RSA_OAEP_3072_SHA1_AES_256").value()},
      {"transit SHA1", byok::kms::wrap_spec_for("transit", "SHA1").value()},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto blob = hsm->wrap_key(KeyRef::id_hex("A1B2"), c.spec, der3072);
    REQUIRE(blob.ok());
    CHECK(test::check_wrapped(token, "aes", KeyType::Aes256Gcm96, c.spec, kek3072.get(),
                              blob.value()) == "");
  }
  // The import method fixes the KEK size.
  auto wrong =
      hsm->wrap_key(KeyRef::label("aes"),
                    byok::kms::wrap_spec_for("gcp", "RSA_OAEP_4096_SHA1_AES_256").value(), der3072);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == ErrorKind::InvalidArgument);
  CHECK(wrong.error().message.find("RSA-4096") != std::string::npos);
}

TEST_CASE("wrap: the KEK and the ephemeral AES key do not stay on the token") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Aes256Gcm96, "aes", ""}).ok());
  auto kek = test::generate_rsa(2048);
  for (int i = 0; i < 3; ++i)
    REQUIRE(hsm->wrap_key(KeyRef::label("aes"), kRsaAesSha1, test::public_der(kek.get())).ok());
  // Count every key visible to a session of this application (session objects included; a
  // token may also show objects of other classes, e.g. kryoptic's mechanism objects).
  auto s = token.raw_session();
  std::size_t keys = 0;
  for (CK_ULONG cls : {CKO_SECRET_KEY, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    byok::hsm::Template of_class;
    of_class.ulong(CKA_CLASS, cls);
    auto objs = byok::hsm::find_objects(s->fn(), s->handle(), of_class);
    REQUIRE(objs.ok());
    keys += objs->size();
  }
  CHECK(keys == 1);  // just the target
}

TEST_CASE("wrap: a remembered handle never wraps a replaced key (same label, new material)") {
  test::TestToken token;
  Pkcs11Hsm::Options o;
  o.key_cache_ttl = std::chrono::hours(1);  // force the stale-handle path, not the re-check
  auto pin =
      SecureBuffer(reinterpret_cast<const std::uint8_t*>(token.pin().data()), token.pin().size());
  auto opened = Pkcs11Hsm::open(token.module(), token.label(), std::move(pin), o);
  REQUIRE(opened.ok());
  auto& hsm = opened.value();
  auto first = test::random_bytes(32), second = test::random_bytes(32);
  {
    auto s = token.raw_session();
    test::import_secret(*s, "k", first);
  }
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());
  auto a = hsm->wrap_key(KeyRef::label("k"), kOaepSha1, der);
  REQUIRE(a.ok());
  CHECK(test::oaep_decrypt(kek.get(), OaepHash::Sha1, a.value()) == first);
  {
    auto s = token.raw_session();
    REQUIRE(s->fn()->C_DestroyObject(s->handle(), test::find_object(*s, CKO_SECRET_KEY, "k")) ==
            CKR_OK);
    test::import_secret(*s, "k", second);
  }
  for (WrapSpec spec : {kOaepSha1, kRsaAesSha1}) {
    auto b = hsm->wrap_key(KeyRef::label("k"), spec, der);
    REQUIRE(b.ok());
    auto got = spec.method == WrapMethod::RsaOaep
                   ? test::oaep_decrypt(kek.get(), OaepHash::Sha1, b.value())
                   : test::unwrap_rsa_aes(kek.get(), OaepHash::Sha1, b.value());
    CHECK(got == second);
  }
}
