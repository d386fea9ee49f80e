// ImportedKey end to end, every key type x every provider: the operator (a real process) wraps
// known material inside a real PKCS#11 token (SoftHSM2, and kryoptic in the hsm-kryoptic lane:
// BYOK_TEST_TOKEN), or takes material wrapped offline from a Secret,
// and imports it into each provider's server (moto with its import extension, Vault, strict
// fakes that really unwrap); the test then proves the KMS holds exactly the known key. Cells a
// provider refuses must show their reason. The README's matrix is this table.

#include "tests/integration/reconcilers/ik_test_support.h"

using namespace byok;
using namespace byok::iktest;

namespace {

enum class Source { Hsm, Secret };

using hsm::test::TestToken;
using hsm::test::TokenKind;

struct Cell {
  std::string type;
  Source source;
  std::string refused;  // the Ready reason when the cell must be refused; empty: imported
  // The reason on kryoptic when it differs (it wraps what SoftHSM2 cannot: OAEP with SHA-256,
  // Ed25519 keys).
  std::optional<std::string> refused_on_kryoptic = std::nullopt;
  bool kryoptic_only = false;  // a key SoftHSM2 cannot hold (ChaCha20)

  std::string expected() const {
    return TestToken::kind() == TokenKind::Kryoptic ? refused_on_kryoptic.value_or(refused)
                                                    : refused;
  }
};

void run_matrix(const std::string& provider, const std::vector<Cell>& cells) {
  IkFixture f("ik-matrix-" + provider);
  f.provider(provider);
  std::vector<std::pair<std::string, const Cell*>> names;
  // On kryoptic only the cells that go through the token (the others do not change with it).
  const bool kryoptic = TestToken::kind() == TokenKind::Kryoptic;
  for (const auto& cell : cells) {
    if (kryoptic ? cell.source != Source::Hsm : cell.kryoptic_only) continue;
    std::string name =
        provider + "-" + cell.type + (cell.source == Source::Hsm ? "-hsm" : "-wrapped");
    // KMS key names must be unique in servers that outlive a run.
    std::string kms_name = testing::unique_name(name);
    Json extra = {{"kmsKeyName", kms_name}};
    if (cell.source == Source::Hsm) {
      f.add_key(name, cell.type);
    } else {
      const auto& known =
          f.keys.emplace(name, KnownKey{cell.type, testing::make_material(cell.type)})
              .first->second;
      // A refused cell never reaches the wrapping key (fetching one may create a key).
      OfflineWrap w{testing::random_bytes(600), std::string(64, '0'), "", ""};
      if (cell.expected().empty())
        w = wrap_offline(provider, kms_name, cell.type, known.material.bytes);
      create_wrapped_secret(f.c, f.ns, name + "-wrapped", w.wrapped);
      extra["source"] = wrapped_source(name + "-wrapped", w);
    }
    f.create(imported_key(name, provider, cell.type, name, extra));
    names.emplace_back(name, &cell);
  }
  f.start();
  for (const auto& [name, cell] : names) {
    INFO(provider << " " << cell->type
                  << (cell->source == Source::Hsm ? " from the HSM" : " wrapped offline"));
    const std::string refused = cell->expected();
    auto st = f.try_wait(name, refused);
    if (!st) {
      CHECK(false);
      continue;
    }
    if (!refused.empty()) {
      CHECK_FALSE(st->value("imported", true));
      CHECK(testing::condition_field(*st, "Ready", "status") == "False");
      CHECK_FALSE(testing::condition_field(*st, "Ready", "message").empty());
      continue;
    }
    CHECK(st->value("phase", "") == "Imported");
    CHECK(testing::condition_field(*st, "Imported", "status") == "True");
    CHECK(st->value("wrappingKeyFingerprint", "").size() == 64);
    CHECK_FALSE(st->value("importedAt", "").empty());
    check_kms_holds(provider, *st, f.keys.at(name));
  }
}

}  // namespace

TEST_CASE("importedkey matrix: aws", "[aws][importedkey][matrix]") {
  run_matrix("aws", {
                        {"aes256-gcm96", Source::Hsm, ""},
                        {"rsa-2048", Source::Hsm, ""},
                        {"rsa-3072", Source::Hsm, ""},
                        {"rsa-4096", Source::Hsm, ""},
                        {"ecdsa-p256", Source::Hsm, ""},
                        {"ecdsa-p384", Source::Hsm, ""},
                        {"ecdsa-p521", Source::Hsm, ""},
                        {"aes128-gcm96", Source::Hsm, "UnsupportedKeyType"},
                        {"ed25519", Source::Hsm, "UnsupportedKeyType"},
                    });
}

// The same import path against local-kms, an AWS KMS emulator this project did not write: it
// serves EXTERNAL keys for SYMMETRIC_DEFAULT only (RSA_2048 wrapping keys, OAEP SHA-1/SHA-256);
// an RSA key is refused by local-kms itself.
TEST_CASE("importedkey matrix: localkms", "[localkms][importedkey][matrix]") {
  run_matrix("localkms", {
                             {"aes256-gcm96", Source::Hsm, ""},
                             {"rsa-2048", Source::Hsm, "ImportRefused"},
                             {"aes128-gcm96", Source::Hsm, "UnsupportedKeyType"},
                         });
}

TEST_CASE("importedkey matrix: transit", "[transit][importedkey][matrix]") {
  run_matrix("transit", {
                            {"aes128-gcm96", Source::Hsm, ""},
                            {"aes256-gcm96", Source::Hsm, ""},
                            {"rsa-2048", Source::Hsm, ""},
                            {"ecdsa-p256", Source::Hsm, ""},
                            {"rsa-3072", Source::Secret, ""},
                            {"rsa-4096", Source::Secret, ""},
                            {"ecdsa-p384", Source::Secret, ""},
                            {"ecdsa-p521", Source::Secret, ""},
                            {"ed25519", Source::Secret, ""},
                            {"ed25519", Source::Hsm, "HsmCannotWrap", ""},
                            {"chacha20-poly1305", Source::Hsm, "", std::nullopt, true},
                        });
}

TEST_CASE("importedkey matrix: gcp", "[gcp][importedkey][matrix]") {
  run_matrix(
      "gcp",
      {
          {"aes128-gcm96", Source::Hsm, ""},
          {"aes256-gcm96", Source::Hsm, ""},
          {"rsa-2048", Source::Secret, "WrappedSourceUnsupported"},
          // kryoptic only: SoftHSM2 zero-pads the PKCS#8 it wraps to a multiple of 8 bytes, which
          // Cloud KMS refuses for RSA, unless the key's DER happens to be such a multiple already
          // (an RSA-2048 PKCS#8 is 1216 to 1219 bytes), so its outcome depends on the key.
          {"rsa-2048", Source::Hsm, "", std::nullopt, true},
          {"ecdsa-p256", Source::Hsm, ""},
          {"chacha20-poly1305", Source::Hsm, "UnsupportedKeyType"},
      });
}

TEST_CASE("importedkey matrix: azure", "[azure][importedkey][matrix]") {
  run_matrix("azure", {
                          {"rsa-2048", Source::Hsm, ""},
                          {"ecdsa-p256", Source::Hsm, ""},
                          {"rsa-2048", Source::Secret, ""},
                          {"rsa-3072", Source::Secret, ""},
                          {"rsa-4096", Source::Secret, ""},
                          {"ecdsa-p256", Source::Secret, ""},
                          {"ecdsa-p384", Source::Secret, ""},
                          {"ecdsa-p521", Source::Secret, ""},
                          {"aes256-gcm96", Source::Hsm, "UnsupportedKeyType"},
                          {"ed25519", Source::Hsm, "UnsupportedKeyType"},
                      });
}

// A Managed HSM takes AES keys (oct-HSM), which a vault refuses; same .byok import, same fixture.
TEST_CASE("importedkey matrix: azure managed HSM", "[azure][importedkey][matrix]") {
  run_matrix("azurehsm", {
                             {"aes128-gcm96", Source::Hsm, ""},
                             {"aes256-gcm96", Source::Hsm, ""},
                             {"aes256-gcm96", Source::Secret, ""},
                             {"rsa-2048", Source::Hsm, ""},
                             {"chacha20-poly1305", Source::Hsm, "UnsupportedKeyType"},
                             {"ed25519", Source::Hsm, "UnsupportedKeyType"},
                         });
}

TEST_CASE("importedkey matrix: oci", "[oci][importedkey][matrix]") {
  run_matrix("oci", {
                        {"aes128-gcm96", Source::Secret, ""},
                        {"aes256-gcm96", Source::Secret, ""},
                        {"rsa-2048", Source::Secret, ""},
                        {"rsa-3072", Source::Secret, ""},
                        {"rsa-4096", Source::Secret, ""},
                        {"aes256-gcm96", Source::Hsm, "HsmCannotWrap",
                         ""},  // OAEP-SHA-256 of the key itself
                        {"ecdsa-p256", Source::Hsm, "UnsupportedKeyType"},
                    });
}

TEST_CASE("importedkey matrix: thalassa", "[thalassa][importedkey][matrix]") {
  run_matrix("thalassa", {
                             {"aes128-gcm96", Source::Hsm, ""},
                             {"aes256-gcm96", Source::Hsm, ""},
                             {"rsa-2048", Source::Secret, ""},
                             {"ecdsa-p256", Source::Secret, ""},
                             {"ed25519", Source::Secret, ""},
                             {"chacha20-poly1305", Source::Secret, ""},
                             {"chacha20-poly1305", Source::Hsm, "", std::nullopt, true},
                         });
}
