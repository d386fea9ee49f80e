#include <catch2/catch.hpp>

#include "hsm/encoding.h"
#include "hsm/trusted_kek.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

using namespace byok::hsm;
using byok::ErrorKind;

namespace {
const WrapSpec kOaepSha1{WrapMethod::RsaOaep, OaepHash::Sha1, 0};
const WrapSpec kRsaAesSha1{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
bool mentions(const byok::Error& e, const std::string& what) {
  return e.message.find(what) != std::string::npos;
}
}  // namespace

TEST_CASE(
    "trusted wrapping: a CKA_WRAP_WITH_TRUSTED key is wrapped by the token only under a KEK "
    "the security officer installed, whatever the software asks",
    "[trusted-kek]") {
  test::TestToken token("trusted-kek");
  auto kms_kek = test::generate_rsa(2048);
  auto kms_der = test::public_der(kms_kek.get());
  auto other_der = test::public_der(test::generate_rsa(2048).get());
  HsmConfig where;
  where.module = test::TestToken::module_path();
  where.token = token.label();

  {
    auto h = token.open_hsm();
    auto bound = h->generate_key({KeyType::Aes256Gcm96, "bound", "", true});
    REQUIRE(bound.ok());
    CHECK(bound->wrap_with_trusted);
    auto free = h->generate_key({KeyType::Aes256Gcm96, "free", ""});
    REQUIRE(free.ok());
    CHECK_FALSE(free->wrap_with_trusted);
    // Before the ceremony the token refuses, and the error says what would allow it.
    auto refused = h->wrap_key(KeyRef::label("bound"), kOaepSha1, kms_der);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::PermissionDenied);
    CHECK(mentions(refused.error(), "CKA_WRAP_WITH_TRUSTED"));
    CHECK(mentions(refused.error(), "byokctl trust-kek"));
    // A key without the attribute wraps under any sound KEK, as before.
    CHECK(h->wrap_key(KeyRef::label("free"), kOaepSha1, kms_der).ok());
  }  // the user's sessions close: the SO logs in alone

  // The user PIN is not the SO PIN: the ceremony is the security officer's.
  auto wrong = install_trusted_kek(where, token.pin_file(), kms_der, "kms-kek");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == ErrorKind::Unauthenticated);
  auto installed = install_trusted_kek(where, token.write_file("so-pin", token.so_pin() + "\n"),
                                       kms_der, "kms-kek");
  INFO((installed.ok() ? std::string() : installed.error().message));
  REQUIRE(installed.ok());
  CHECK(installed->fingerprint_sha256 == spki_fingerprint_sha256(kms_der));
  CHECK(installed->bits == 2048);
  // The same label twice is refused.
  auto again = install_trusted_kek(where, token.write_file("so-pin", token.so_pin() + "\n"),
                                   kms_der, "kms-kek");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::FailedPrecondition);

  auto h = token.open_hsm();
  auto wrapped = h->wrap_key(KeyRef::label("bound"), kOaepSha1, kms_der);
  REQUIRE(wrapped.ok());
  auto opened = test::oaep_decrypt(kms_kek.get(), OaepHash::Sha1, *wrapped);
  REQUIRE(opened);
  CHECK(opened->size() == 32);
  // Any other KEK is still refused by the token itself.
  auto other = h->wrap_key(KeyRef::label("bound"), kOaepSha1, other_der);
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().kind == ErrorKind::PermissionDenied);
  // SoftHSM2 2.6.1 composes RSA-AES from an ephemeral AES key, which no SO trusted: refused,
  // saying so (an HSM with a native CKM_RSA_AES_KEY_WRAP uses the trusted KEK directly).
  auto composed = h->wrap_key(KeyRef::label("bound"), kRsaAesSha1, kms_der);
  REQUIRE_FALSE(composed.ok());
  CHECK(mentions(composed.error(), "native CKM_RSA_AES_KEY_WRAP"));
}
