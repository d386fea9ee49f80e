// The provider registry (kms/provider_traits.h, kms/provider_list.h): the list matches what the
// CRDs accept, every entry answers by its name, and every wrapping algorithm a client offers is
// one whose wrap the HSM can be told to make.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "kms/provider_factory.h"
#include "kms/provider_traits.h"
#include "tests/unit/kms/gcp/gcp_test_support.h"
#include "tests/unit/kms/oci/oci_test_keys.h"
#include "tests/unit/kms/scripted_transport.h"

using namespace byok;
using namespace byok::kms;

namespace {

// The words of spec.<field>.enum in crds/<file>.
std::set<std::string> crd_enum(const std::string& file, const std::string& field) {
  YAML::Node crd = YAML::LoadFile(std::string(BYOK_SOURCE_DIR) + "/crds/" + file);
  YAML::Node words = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
                        ["properties"][field]["enum"];
  std::set<std::string> out;
  for (const auto& word : words) out.insert(word.as<std::string>());
  return out;
}

std::set<std::string> registered_names() {
  std::set<std::string> out;
  for (const auto* traits : all_provider_traits()) out.insert(std::string(traits->name));
  return out;
}

// A config each client accepts; nothing is sent while the tests below use it.
ProviderConfig config_for(std::string_view type) {
  ProviderConfig c;
  c.type = std::string(type);
  if (type == "aws") {
    c.region = "eu-west-1";
    c.credentials = {{"accessKeyId", "AKID"}, {"secretAccessKey", "secret"}};
  } else if (type == "gcp") {
    c.settings = {{"project", "proj-1"}, {"location", "europe-west1"}, {"keyRing", "ring"}};
    c.credentials = {{"serviceAccountKey", gcp::testing::sa_key_json().dump()}};
  } else if (type == "azure") {
    c.settings = {{"vaultUrl", "https://contoso.vault.azure.net"}};
    c.credentials = {{"tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
                     {"clientId", "c"},
                     {"clientSecret", "s"}};
  } else if (type == "oci") {
    c.region = "us-ashburn-1";
    c.settings = {
        {"compartmentId", "ocid1.compartment.oc1..aaaa"},
        {"vaultId", "ocid1.vault.oc1.iad.bbp123.vault"},
        {"managementEndpoint", "https://bbp123-management.kms.us-ashburn-1.oraclecloud.com"}};
    c.credentials = {{"tenancy", oci::testing::kPublishedTenancy},
                     {"user", oci::testing::kPublishedUser},
                     {"fingerprint", oci::testing::kPublishedFingerprint},
                     {"privateKey", oci::testing::kPublishedKeyPem}};
  } else if (type == "transit") {
    c.endpoint = "https://127.0.0.1:8200";
    c.credentials = {{"token", "hvs.x"}};
  } else if (type == "thalassa") {
    c.endpoint = "https://127.0.0.1:8443";
    c.region = "nl-01";
    c.settings = {{"organisation", "org"}};
    c.credentials = {{"token", "t"}};
  }
  return c;
}

// spec.keyType's words (crds/byok.dev_importedkeys.yaml's rule on it).
const char* const kKeyTypes[] = {"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048",
                                 "rsa-3072",     "rsa-4096",     "ecdsa-p256",        "ecdsa-p384",
                                 "ecdsa-p521",   "ed25519"};

}  // namespace

TEST_CASE("provider registry: exactly the types the provider CRDs accept are registered",
          "[kms][providers]") {
  CHECK(registered_names() == crd_enum("byok.dev_kmsproviders.yaml", "type"));
  CHECK(registered_names() == crd_enum("byok.dev_clusterkmsproviders.yaml", "type"));
  // A CustomerManagedKey's provider says which of its keys can encrypt data keys.
  for (const auto& word : crd_enum("byok.dev_customermanagedkeys.yaml", "provider")) {
    INFO(word);
    const ProviderTraits* traits = provider_traits(word);
    REQUIRE(traits != nullptr);
    CHECK(traits->cmk_key_problem != nullptr);
  }
}

TEST_CASE("provider registry: each entry answers by its own name, and no other name answers",
          "[kms][providers]") {
  for (const ProviderTraits* traits : all_provider_traits()) {
    INFO(traits->name);
    CHECK(provider_traits(traits->name) == traits);
    CHECK_FALSE(traits->title.empty());
    REQUIRE(traits->wrap_spec != nullptr);
    REQUIRE(traits->cmk_status != nullptr);
    if (!traits->default_wrapping_algorithm.empty())
      CHECK(traits->wrap_spec(traits->default_wrapping_algorithm).ok());
    // byokctl wrap names the algorithm in the provider's API when it has no default.
    if (!traits->byokctl_algorithm_help.empty() && traits->default_wrapping_algorithm.empty())
      CHECK_FALSE(traits->byokctl_algorithm_name.empty());
  }
  // byokctl azure-byok-export writes Azure's file around the wrap of Azure's default algorithm.
  const ProviderTraits* azure = provider_traits("azure");
  REQUIRE(azure != nullptr);
  CHECK(azure->wrap_file != nullptr);
  CHECK(azure->wrap_spec(azure->default_wrapping_algorithm).ok());
  CHECK(provider_traits("vault") == nullptr);
  CHECK(provider_traits("") == nullptr);
  auto unknown = wrap_spec_for("vault", "SHA1");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "no wrap is known for provider \"vault\"");
  CHECK_FALSE(cmk_status_for("vault", "Enabled"));
  CHECK(cmk_status_for("aws", "Enabled") == CmkStatus::Current);
  CHECK(cmk_status_for("gcp", "DESTROYED") == CmkStatus::Deleted);
}

TEST_CASE("provider registry: every wrapping algorithm a client offers maps to a wrap spec",
          "[kms][providers]") {
  testing::SettableClock clock;
  for (const ProviderTraits* traits : all_provider_traits()) {
    INFO(traits->name);
    auto handle = make_provider(
        config_for(traits->name), std::make_unique<testing::ScriptedTransport>(), clock,
        RetryEnvironment{[](std::chrono::milliseconds) {}, [] { return 0.5; }});
    REQUIRE(handle);
    CHECK(std::string_view(handle->client->provider()) == traits->name);
    int importable = 0;
    for (const char* key_type : kKeyTypes) {
      INFO(key_type);
      auto algorithms = handle->client->wrapping_algorithms(key_type);
      if (!algorithms) {
        CHECK(algorithms.error().kind == ErrorKind::Unsupported);  // a type this KMS cannot hold
        continue;
      }
      ++importable;
      CHECK_FALSE(algorithms->empty());
      for (const auto& algorithm : *algorithms) {
        INFO(algorithm);
        CHECK(traits->wrap_spec(algorithm).ok());
      }
    }
    CHECK(importable > 0);
  }
  auto unknown =
      make_provider(config_for("vault"), std::make_unique<testing::ScriptedTransport>(), clock,
                    RetryEnvironment{[](std::chrono::milliseconds) {}, [] { return 0.5; }});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "spec.type vault is not a provider type this operator knows");
}

TEST_CASE("wrap specs: each KMS's algorithm words map to the right method and hash",
          "[kms][providers]") {
  const WrapSpec aes_sha1{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  CHECK(wrap_spec_for("azure", "CKM_RSA_AES_KEY_WRAP").value() == aes_sha1);
  CHECK(wrap_spec_for("azure", "").value() == aes_sha1);
  CHECK_FALSE(wrap_spec_for("azure", "RSA_AES_KEY_WRAP_SHA_1"));
  CHECK(wrap_spec_for("aws", "RSAES_OAEP_SHA_1").value() ==
        WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0});
  CHECK(wrap_spec_for("aws", "RSA_AES_KEY_WRAP_SHA_256").value() ==
        WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0});
  CHECK(wrap_spec_for("aws", "RSAES_PKCS1_V1_5").error().kind == ErrorKind::Unsupported);
  CHECK(wrap_spec_for("gcp", "RSA_OAEP_3072_SHA1_AES_256").value() ==
        WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 3072});
  CHECK(wrap_spec_for("gcp", "RSA_OAEP_4096_SHA256").value() ==
        WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 4096});
  CHECK_FALSE(wrap_spec_for("gcp", "RSA_OAEP_2048_SHA1_AES_256"));
  CHECK(wrap_spec_for("oci", "RSA_OAEP_AES_SHA256").value() ==
        WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0});
  CHECK(wrap_spec_for("transit", "").value().hash == OaepHash::Sha256);
  CHECK(wrap_spec_for("transit", "SHA1").value().hash == OaepHash::Sha1);
  CHECK(wrap_spec_for("transit", "SHA512").error().kind == ErrorKind::Unsupported);
  CHECK(wrap_spec_for("thalassa", "sha1").value().hash == OaepHash::Sha1);
  CHECK_FALSE(wrap_spec_for("thalassa", "SHA256"));
}

TEST_CASE("CMK key check: each provider names the keys that cannot encrypt data keys",
          "[kms][providers]") {
  auto problem = [](std::string_view provider, const std::string& usage, const std::string& spec) {
    KeyDescription key;
    key.key_usage = usage;
    key.key_spec = spec;
    const ProviderTraits* traits = provider_traits(provider);
    REQUIRE(traits != nullptr);
    return traits->cmk_key_problem ? traits->cmk_key_problem(key) : std::nullopt;
  };
  CHECK_FALSE(problem("aws", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT"));
  CHECK(problem("aws", "SIGN_VERIFY", "ECC_NIST_P256").value().find("SIGN_VERIFY") !=
        std::string::npos);
  CHECK_FALSE(problem("gcp", "ASYMMETRIC_DECRYPT", "RSA_DECRYPT_OAEP_3072_SHA256"));
  CHECK(problem("gcp", "ASYMMETRIC_SIGN", "EC_SIGN_P256_SHA256").has_value());
  CHECK_FALSE(problem("azure", "", "RSA-HSM"));
  CHECK(problem("azure", "", "EC-HSM P-256").has_value());
  CHECK_FALSE(problem("oci", "", "AES"));
  CHECK(problem("oci", "", "ECDSA").has_value());
  CHECK_FALSE(problem("transit", "", "ecdsa-p256"));  // not a CMK provider: no rule
}
