#include <catch2/catch.hpp>

#include "hsm/pkcs11_objects.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

using namespace byok::hsm;
using byok::ErrorKind;

namespace {
const WrapSpec kRsaAesSha1{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
bool mentions(const byok::Error& e, const std::string& what) {
  return e.message.find(what) != std::string::npos;
}
}  // namespace

TEST_CASE("refuse: a wrong PIN is Unauthenticated, and is not tried again") {
  test::TestToken token;
  auto pin = SecureBuffer(reinterpret_cast<const std::uint8_t*>("0000"), 4);
  auto hsm = Pkcs11Hsm::open(token.module(), token.label(), std::move(pin), {});
  REQUIRE_FALSE(hsm.ok());
  CHECK(hsm.error().kind == ErrorKind::Unauthenticated);
  CHECK(mentions(hsm.error(), "CKR_PIN_INCORRECT"));
}

TEST_CASE("refuse: an unknown token label is NotFound and names the tokens that exist") {
  test::TestToken token;
  auto pin =
      SecureBuffer(reinterpret_cast<const std::uint8_t*>(token.pin().data()), token.pin().size());
  auto hsm = Pkcs11Hsm::open(token.module(), "no-such-token", std::move(pin), {});
  REQUIRE_FALSE(hsm.ok());
  CHECK(hsm.error().kind == ErrorKind::NotFound);
  CHECK(mentions(hsm.error(), "\"byok-test\""));
}

TEST_CASE("refuse: a missing key label or id is NotFound") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  auto kek = test::generate_rsa(2048);
  auto r = hsm->wrap_key(KeyRef::label("missing"), kRsaAesSha1, test::public_der(kek.get()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::NotFound);
  CHECK(mentions(r.error(), "label \"missing\""));
  auto f = hsm->find_key(KeyRef::id_hex("0102"));
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().kind == ErrorKind::NotFound);
  auto bad = hsm->find_key(KeyRef::id_hex("xyz"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::InvalidArgument);
}

TEST_CASE("refuse: a KEK under 2048 bits, a non-RSA KEK, or garbage") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Aes256Gcm96, "aes", ""}).ok());

  auto small = test::generate_rsa(1024);
  auto r1 = hsm->wrap_key(KeyRef::label("aes"), kRsaAesSha1, test::public_der(small.get()));
  REQUIRE_FALSE(r1.ok());
  CHECK(r1.error().kind == ErrorKind::InvalidArgument);
  CHECK(mentions(r1.error(), "RSA-1024; at least 2048 bits"));

  auto ec = test::generate_ec("P-256");
  auto r2 = hsm->wrap_key(KeyRef::label("aes"), kRsaAesSha1, as_bytes(test::public_pem(ec.get())));
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::InvalidArgument);
  CHECK(mentions(r2.error(), "EC key; only RSA"));

  auto r3 = hsm->wrap_key(KeyRef::label("aes"), kRsaAesSha1, as_bytes("not a key"));
  REQUIRE_FALSE(r3.ok());
  CHECK(r3.error().kind == ErrorKind::InvalidArgument);
}

TEST_CASE(
    "refuse: a token that cannot wrap Ed25519 private keys says so (SoftHSM2), one that "
    "can wraps them right (kryoptic)") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Ed25519, "ed", ""}).ok());
  auto kek = test::generate_rsa(2048);
  auto r = hsm->wrap_key(KeyRef::label("ed"), kRsaAesSha1, test::public_der(kek.get()));
  if (test::TestToken::kind() == test::TokenKind::Kryoptic) {
    REQUIRE(r.ok());
    CHECK(test::check_wrapped(token, "ed", KeyType::Ed25519, kRsaAesSha1, kek.get(), r.value()) ==
          "");
    return;
  }
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unsupported);
  CHECK(mentions(r.error(), "this HSM cannot wrap ed25519 keys"));
  INFO(r.error().message);
}

TEST_CASE(
    "refuse: OAEP with SHA-256 on SoftHSM 2.6.1 is Unsupported, and remembered, while kryoptic "
    "wraps with it right") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Aes256Gcm96, "aes", ""}).ok());
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());
  for (WrapSpec spec : {WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 0},
                        WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0}}) {
    auto r = hsm->wrap_key(KeyRef::label("aes"), spec, der);
    if (test::TestToken::kind() == test::TokenKind::Kryoptic) {
      REQUIRE(r.ok());
      CHECK(test::check_wrapped(token, "aes", KeyType::Aes256Gcm96, spec, kek.get(), r.value()) ==
            "");
      continue;
    }
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Unsupported);
    CHECK(mentions(r.error(), "does not accept SHA-256"));
    auto caps = hsm->capabilities();
    REQUIRE(caps.ok());
    CHECK(caps->oaep_sha256 == std::optional<bool>(false));
  }
}

TEST_CASE("refuse: direct RSA-OAEP of a private key, and a non-extractable key") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::EcdsaP256, "ec", ""}).ok());
  auto kek = test::generate_rsa(2048);
  auto der = test::public_der(kek.get());
  auto r =
      hsm->wrap_key(KeyRef::label("ec"), WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0}, der);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(mentions(r.error(), "only carry symmetric keys"));

  {
    auto s = token.raw_session();
    Template t;
    t.ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .ulong(CKA_VALUE_LEN, 32)
        .flag(CKA_TOKEN, true)
        .flag(CKA_SENSITIVE, true)
        .flag(CKA_EXTRACTABLE, false)
        .text(CKA_LABEL, "locked");
    CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE h;
    REQUIRE(s->fn()->C_GenerateKey(s->handle(), &gen, t.data(), t.size(), &h) == CKR_OK);
  }
  auto locked = hsm->wrap_key(KeyRef::label("locked"), kRsaAesSha1, der);
  REQUIRE_FALSE(locked.ok());
  CHECK(locked.error().kind == ErrorKind::PermissionDenied);
  CHECK(mentions(locked.error(), "not extractable"));
}

TEST_CASE("refuse: a module path that is not a PKCS#11 library") {
  auto m = Module::load("/nonexistent/libnothing.so");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().kind == ErrorKind::InvalidArgument);
  auto libc = Module::load("libc.so.6");
  REQUIRE_FALSE(libc.ok());
  CHECK(mentions(libc.error(), "not a PKCS#11 module"));
}
