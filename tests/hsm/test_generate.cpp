#include <catch2/catch.hpp>

#include "hsm/pkcs11_objects.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

using namespace byok::hsm;
using byok::ErrorKind;

TEST_CASE("generate: every key type SoftHSM can make is a sensitive, extractable token key") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  auto caps = hsm->capabilities();
  REQUIRE(caps.ok());
  KeyType type =
      GENERATE(KeyType::Aes128Gcm96, KeyType::Aes256Gcm96, KeyType::Rsa2048, KeyType::Rsa3072,
               KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::EcdsaP521, KeyType::Ed25519);
  std::string label = "gen-" + std::string(key_type_name(type));
  auto info = hsm->generate_key({type, label, ""});
  INFO(key_type_name(type));
  REQUIRE(info.ok());
  CHECK(info->label == label);
  REQUIRE(info->type.has_value());
  CHECK(*info->type == type);
  CHECK(info->sensitive);
  CHECK(info->extractable);
  CHECK(info->id_hex.size() == 32);
  CHECK(info->is_private == !is_symmetric(type));

  // Re-read from the token: CKA_TOKEN must be set, and the label is now taken.
  auto s = token.raw_session();
  CK_OBJECT_HANDLE h =
      test::find_object(*s, is_symmetric(type) ? CKO_SECRET_KEY : CKO_PRIVATE_KEY, label);
  auto tok = get_attribute(s->fn(), s->handle(), h, CKA_TOKEN);
  REQUIRE(tok.ok());
  REQUIRE(tok.value().has_value());
  CHECK((*tok.value())[0] == CK_TRUE);
  auto again = hsm->generate_key({type, label, ""});
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::FailedPrecondition);

  auto found = hsm->find_key(KeyRef::id_hex(info->id_hex));
  REQUIRE(found.ok());
  CHECK(found->label == label);
}

TEST_CASE("generate: rsa-4096 with a caller-chosen id") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  auto info = hsm->generate_key({KeyType::Rsa4096, "big", "c0ffee01"});
  REQUIRE(info.ok());
  CHECK(info->id_hex == "c0ffee01");
  CHECK(info->type == KeyType::Rsa4096);
}

TEST_CASE("generate: chacha20 is refused clearly when the HSM has no CKM_CHACHA20_KEY_GEN") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  if (hsm->has_mechanism(CKM_CHACHA20_KEY_GEN)) {
    auto info = hsm->generate_key({KeyType::Chacha20Poly1305, "cc", ""});
    CHECK(info.ok());
    return;
  }
  auto info = hsm->generate_key({KeyType::Chacha20Poly1305, "cc", ""});
  REQUIRE_FALSE(info.ok());
  CHECK(info.error().kind == ErrorKind::Unsupported);
  CHECK(info.error().message.find("this HSM cannot generate chacha20 keys") != std::string::npos);
  auto caps = hsm->capabilities();
  REQUIRE(caps.ok());
  CHECK(std::find(caps->can_generate.begin(), caps->can_generate.end(),
                  KeyType::Chacha20Poly1305) == caps->can_generate.end());
}

TEST_CASE("list_keys shows secret and private keys with their types, not public keys") {
  test::TestToken token;
  auto hsm = token.open_hsm();
  REQUIRE(hsm->generate_key({KeyType::Aes256Gcm96, "a", ""}).ok());
  REQUIRE(hsm->generate_key({KeyType::EcdsaP256, "b", ""}).ok());
  auto keys = hsm->list_keys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[0].label == "a");
  CHECK((*keys)[0].type == KeyType::Aes256Gcm96);
  CHECK((*keys)[1].label == "b");
  CHECK((*keys)[1].pkcs11_key_type == "EC");
  auto info = hsm->info();
  REQUIRE(info.ok());
  CHECK(info->token_label == "byok-test");
  CHECK(info->manufacturer.find(test::TestToken::manufacturer()) != std::string::npos);
}
