#include <catch2/catch.hpp>

#include "reconcilers/imported_key/ik_plan.h"
#include "reconcilers/imported_key/wrap_choice.h"

using namespace byok;
using namespace byok::importedkey;

namespace {

ImportedKey make(bool imported = false, int64_t rotate = 0, int64_t rotation = 0) {
  ImportedKey k;
  k.meta.name = "payments";
  k.meta.namespace_ = "team";
  k.meta.uid = "6f1c0d4e-0000-4000-8000-000000000001";
  k.meta.generation = 3;
  k.spec.provider_ref.name = "aws";
  k.spec.key_type = "aes256-gcm96";
  k.spec.allow_rotation = rotate > 0;
  k.spec.rotate = rotate;
  k.spec.hsm = HsmSource{"payments-key", ""};
  k.status.imported = imported;
  k.status.rotation = rotation;
  if (imported) {
    k.status.key_id = "arn:aws:kms:eu-west-1:111122223333:key/k1";
    k.status.key_version = "v1";
    k.status.phase = phases::kImported;
  }
  return k;
}

kms::KeyDescription key(const std::string& state, const std::string& version = "v1") {
  kms::KeyDescription d;
  d.key_id = "k1";
  d.resource = "arn:aws:kms:eu-west-1:111122223333:key/k1";
  d.state = state;
  d.version = version;
  d.status = state == "Enabled"           ? std::optional(kms::CmkStatus::Current)
             : state == "PendingDeletion" ? std::optional(kms::CmkStatus::Deleted)
                                          : std::optional(kms::CmkStatus::Old);
  // As the AWS and Google clients report it: no material before (or after a failed) import.
  d.holds_material = !state.empty() && state != "PendingImport" && state != "PENDING_IMPORT" &&
                     state != "IMPORT_FAILED";
  return d;
}

const runtime::Condition& condition(const ImportedKeyStatus& st, const std::string& type) {
  const auto* c = runtime::find_condition(st.conditions, type);
  REQUIRE(c != nullptr);
  return *c;
}

hsm::Capabilities softhsm_caps() {
  hsm::Capabilities c;
  c.rsa_oaep = true;
  c.aes_key_wrap_pad = true;
  c.native_rsa_aes_key_wrap = false;
  c.oaep_sha256 = false;  // SoftHSM2 2.6.1
  return c;
}

}  // namespace

TEST_CASE("imported key: nothing in the KMS means a first import, unless it was imported before",
          "[importedkey]") {
  CHECK(decide(make(false), std::nullopt) == Step::Import);
  CHECK(decide(make(true), std::nullopt) == Step::KeyMissing);
}

TEST_CASE("imported key: a container awaiting material receives the import, never a second key",
          "[importedkey]") {
  // AWS EXTERNAL key in PendingImport; a Google CryptoKey without any version (empty state).
  CHECK(decide(make(false), key("PendingImport", "")) == Step::Import);
  CHECK(decide(make(false), key("", "")) == Step::Import);
  CHECK(decide(make(false), key("IMPORT_FAILED")) == Step::Import);
}

TEST_CASE("imported key: material the status does not know yet is adopted, not imported again",
          "[importedkey]") {
  auto k = make(false);
  k.status.phase = phases::kImporting;  // the controller died after the import call
  REQUIRE(decide(k, key("Enabled")) == Step::Adopt);
  auto st = status_adopted(k, key("Enabled"), "2026-11-23T10:00:00Z");
  CHECK(st.imported);
  CHECK(st.key_id == "arn:aws:kms:eu-west-1:111122223333:key/k1");
  CHECK(st.phase == phases::kImported);
  CHECK(condition(st, conditions::kImported).status == "True");
  CHECK(condition(st, conditions::kReady).reason == reasons::kKeyUsable);
  CHECK(st.observed_generation == 3);
}

TEST_CASE(
    "imported key: material deleted or expired in the KMS is not put back unless the "
    "reimport annotation asks, once",
    "[importedkey]") {
  auto k = make(true);
  CHECK(decide(k, key("PendingImport")) == Step::MaterialMissing);
  k.meta.annotations[kReimportAnnotation] = "2026-12-03";
  CHECK(decide(k, key("PendingImport")) == Step::Import);
  // The import records the request it honoured: the same value asks for nothing more.
  kms::ImportResult result{"k1", "arn:aws:kms:eu-west-1:111122223333:key/k1", "m-2"};
  k.status = status_imported(k, result, "Enabled", false, "2026-12-03T10:00:00Z");
  CHECK(k.status.reimport == "2026-12-03");
  CHECK(decide(k, key("PendingImport")) == Step::MaterialMissing);
  // A request made while the material is there is used up by the look that sees it there.
  k.meta.annotations[kReimportAnnotation] = "ahead-of-time";
  CHECK(decide(k, key("Enabled")) == Step::Observe);
  k.status = status_observed(k, key("Enabled"), "2026-12-03T10:01:00Z");
  CHECK(k.status.reimport == "ahead-of-time");
  CHECK(decide(k, key("PendingImport")) == Step::MaterialMissing);
  // A container that never held material gets its first import without asking.
  CHECK(decide(make(false), key("PendingImport")) == Step::Import);
}

TEST_CASE(
    "imported key: a lasting failure is looked at again less and less often, a minute to "
    "an hour",
    "[importedkey]") {
  SystemTime t0;
  REQUIRE(parse_rfc3339("2026-12-03T10:00:00Z", t0));
  auto k = make(false);
  CHECK(lasting_failure_delay(k.status, t0) == std::chrono::seconds(60));  // no Ready yet
  k.status = status_failed(k, {reasons::kWrappingKeyMismatch, "m", false}, "2026-12-03T10:00:00Z");
  CHECK(lasting_failure_delay(k.status, t0 + std::chrono::seconds(5)) == std::chrono::seconds(60));
  CHECK(lasting_failure_delay(k.status, t0 + std::chrono::seconds(600)) ==
        std::chrono::seconds(600));
  CHECK(lasting_failure_delay(k.status, t0 + std::chrono::hours(30)) == std::chrono::seconds(3600));
  // The next attempt's in-progress status keeps Ready False, and so the time it went False.
  k.status = status_in_progress(k, phases::kImporting, "again", "2026-12-03T10:10:00Z");
  CHECK(lasting_failure_delay(k.status, t0 + std::chrono::seconds(900)) ==
        std::chrono::seconds(900));
  // Ready True: nothing has been failing.
  auto ok = make(true);
  ok.status = status_imported(ok, {"k1", "r", "v"}, "Enabled", false, "2026-12-03T10:00:00Z");
  CHECK(lasting_failure_delay(ok.status, t0 + std::chrono::hours(2)) == std::chrono::seconds(60));
}

TEST_CASE(
    "imported key: a version made outside the operator is not taken for a rotation that "
    "stopped half way",
    "[importedkey]") {
  auto k = make(true, 0, 0);
  k.spec.allow_rotation = true;
  // Someone rotates in the KMS console: v2. The operator's next look records it.
  k.status = status_observed(k, key("Enabled", "v2"), "2026-12-03T10:00:00Z");
  CHECK(k.status.key_version == "v2");
  // Then a rotation is asked for, and the operator dies after writing phase Rotating.
  k.spec.rotate = 1;
  k.status = status_in_progress(k, phases::kRotating, "importing", "2026-12-03T10:01:00Z");
  CHECK(decide(k, key("Enabled", "v2")) == Step::Rotate);  // v2 is not the rotation's version
  CHECK(decide(k, key("Enabled", "v3")) == Step::AdoptRotation);
}

TEST_CASE("imported key: rotation only when spec.rotate moved past status.rotation",
          "[importedkey]") {
  CHECK(decide(make(true, 0, 0), key("Enabled")) == Step::Observe);
  CHECK(decide(make(true, 2, 1), key("Enabled")) == Step::Rotate);
  CHECK(decide(make(true, 2, 2), key("Enabled")) == Step::Observe);
  auto no_rotation = make(true, 1, 0);
  no_rotation.spec.allow_rotation = false;  // a CRD installed without its CEL rules
  CHECK(decide(no_rotation, key("Enabled")) == Step::RotationNotAllowed);
}

TEST_CASE("imported key: a rotation recorded as under way whose version the KMS shows is adopted",
          "[importedkey]") {
  auto k = make(true, 2, 1);
  k.status.phase = phases::kRotating;
  CHECK(decide(k, key("Enabled", "v2")) == Step::AdoptRotation);
  CHECK(decide(k, key("Enabled", "v1")) == Step::Rotate);  // not happened: do it
  auto st = status_adopted(k, key("Enabled", "v2"), "2026-11-23T10:00:00Z");
  CHECK(st.key_version == "v2");
  CHECK(st.rotation == 2);
}

TEST_CASE("imported key: the import result fills the status, the plaintext-free fields only",
          "[importedkey]") {
  auto k = make(false);
  kms::ImportResult r{"k1", "arn:aws:kms:eu-west-1:111122223333:key/k1", "mat-1"};
  auto st = status_imported(k, r, "Enabled", false, "2026-11-23T10:00:00Z");
  CHECK(st.imported);
  CHECK(st.key_id == r.resource);
  CHECK(st.key_version == "mat-1");
  CHECK(st.imported_at == "2026-11-23T10:00:00Z");
  CHECK(st.key_state == "Enabled");
  CHECK(condition(st, conditions::kReady).status == "True");
  CHECK(condition(st, conditions::kImported).observed_generation == 3);
  auto j = imported_key_status_to_json(st);
  CHECK(j["imported"] == true);
  CHECK(j["keyVersion"] == "mat-1");
}

TEST_CASE("imported key: failures set Ready False (Unknown when transient) and keep imported",
          "[importedkey]") {
  auto st = status_failed(make(false), {reasons::kHsmKeyNotFound, "no key", false}, "t");
  CHECK(condition(st, conditions::kReady).status == "False");
  CHECK(condition(st, conditions::kImported).reason == reasons::kHsmKeyNotFound);
  auto transient = status_failed(make(true), {"KmsUnavailable", "down", true}, "t");
  CHECK(condition(transient, conditions::kReady).status == "Unknown");
  CHECK(transient.imported);
  CHECK(runtime::find_condition(transient.conditions, conditions::kImported) == nullptr);
}

TEST_CASE("imported key: a key the KMS disabled or scheduled for deletion is not Ready",
          "[importedkey]") {
  auto st = status_observed(make(true), key("PendingDeletion"), "t");
  CHECK(st.key_state == "PendingDeletion");
  CHECK(condition(st, conditions::kReady).reason == reasons::kKeyNotUsable);
  auto ev = event_for(make(true).status, st);
  REQUIRE(ev);
  CHECK(ev->type == "Warning");
  CHECK(ev->reason == reasons::kKeyNotUsable);
  // Observing the same state again records no second Event.
  auto again = make(true);
  again.status = st;
  CHECK_FALSE(event_for(st, status_observed(again, key("PendingDeletion"), "t2")));
}

TEST_CASE("wrap choice: the provider's best algorithm the HSM can do", "[importedkey]") {
  const std::vector<std::string> aws_sym = {"RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256",
                                            "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_1"};
  auto caps = softhsm_caps();
  auto c = choose_hsm_wrapping("aws", hsm::KeyType::Aes256Gcm96, aws_sym, caps);
  REQUIRE(c);
  CHECK(c->algorithm == "RSAES_OAEP_SHA_1");
  caps.oaep_sha256 = std::nullopt;  // not learned yet: the provider's first choice is tried
  CHECK(choose_hsm_wrapping("aws", hsm::KeyType::Aes256Gcm96, aws_sym, caps)->algorithm ==
        "RSAES_OAEP_SHA_256");
  // A private key cannot travel in one OAEP block.
  caps = softhsm_caps();
  auto rsa = choose_hsm_wrapping("aws", hsm::KeyType::Rsa2048, aws_sym, caps);
  REQUIRE(rsa);
  CHECK(rsa->algorithm == "RSA_AES_KEY_WRAP_SHA_1");
  CHECK(rsa->spec.method == hsm::WrapMethod::RsaAesKeyWrap);
}

TEST_CASE("wrap choice: a refusal names what the HSM lacks and the way out", "[importedkey]") {
  auto c = choose_hsm_wrapping("oci", hsm::KeyType::Aes256Gcm96,
                               {"RSA_OAEP_AES_SHA256", "RSA_OAEP_SHA256"}, softhsm_caps());
  REQUIRE_FALSE(c);
  CHECK(c.error().kind == ErrorKind::Unsupported);
  CHECK_THAT(c.error().message, Catch::Contains("SHA-256"));
  CHECK_THAT(c.error().message, Catch::Contains("wrappedSecretRef"));
  hsm::Capabilities none;
  auto t = choose_hsm_wrapping("transit", hsm::KeyType::Aes128Gcm96, {"SHA256", "SHA1"}, none);
  REQUIRE_FALSE(t);
  CHECK_THAT(t.error().message, Catch::Contains("CKM_RSA_AES_KEY_WRAP"));
}

TEST_CASE("wrap choice: offline material needs a provider with a stable wrapping key",
          "[importedkey]") {
  CHECK(choose_offline_algorithm("aws", "", {"RSAES_OAEP_SHA_256"}).error().kind ==
        ErrorKind::Unsupported);
  CHECK(choose_offline_algorithm("gcp", "", {"RSA_OAEP_3072_SHA256"}).error().kind ==
        ErrorKind::Unsupported);
  CHECK(*choose_offline_algorithm("transit", "", {"SHA256", "SHA1"}) == "SHA256");
  CHECK(*choose_offline_algorithm("oci", "RSA_OAEP_SHA256",
                                  {"RSA_OAEP_AES_SHA256", "RSA_OAEP_SHA256"}) == "RSA_OAEP_SHA256");
  auto bad = choose_offline_algorithm("thalassa", "SHA256", {"sha256", "sha1"});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("wrappingAlgorithm"));
}

TEST_CASE(
    "imported key: the KMS is searched by owner mark only when a key may exist without its "
    "name",
    "[importedkey][plan]") {
  ImportedKeyStatus fresh;
  CHECK_FALSE(key_may_be_unnamed(fresh));  // the first attempt: the name alone answers
  ImportedKeyStatus creating;
  creating.phase = phases::kCreatingKey;  // a create began and may have died before the name
  CHECK(key_may_be_unnamed(creating));
  ImportedKeyStatus recorded;
  recorded.phase = phases::kImporting;
  recorded.key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";  // a key exists; its name may not show
  CHECK(key_may_be_unnamed(recorded));
}
