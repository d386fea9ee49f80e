// plan_import(): the import path's decisions, each row one answer of the KMS, the HSM or the
// cluster and the step (or refusal) it leads to. The other answers are the ones a KMS, an HSM
// and a cluster that all agree would give (answer() below).

#include <catch2/catch.hpp>

#include <functional>

#include "common/base64.h"
#include "hsm/encoding.h"
#include "reconcilers/imported_key/ik_failure.h"
#include "reconcilers/imported_key/import_plan.h"

using namespace byok;
using namespace byok::importedkey;
using Kind = ImportStep::Kind;

namespace {

const std::string kKek = "kek-der";  // the fingerprint hashes the bytes as given

std::string kek_fingerprint() {
  return hsm::spki_fingerprint_sha256(
      {reinterpret_cast<const std::uint8_t*>(kKek.data()), kKek.size()});
}

ImportedKey make_key() {
  ImportedKey k;
  k.meta.name = "payments";
  k.meta.namespace_ = "team";
  k.meta.uid = "uid-payments";
  k.meta.generation = 2;
  k.spec.provider_ref = {"ClusterKmsProvider", "vault"};
  k.spec.key_type = "aes256-gcm96";
  k.spec.hsm = HsmSource{"payments-key", ""};
  return k;
}

ImportObserved observe(const ImportedKey& k,
                       std::optional<kms::KeyDescription> found = std::nullopt,
                       bool rotate = false) {
  kms::ImportTarget target;
  target.name = "payments";
  target.key_type = k.spec.key_type;
  target.owner = k.meta.uid;
  return ImportObserved{.key = k,
                        .provider = "transit",
                        .target = target,
                        .found = std::move(found),
                        .rotate = rotate,
                        .action = rotate ? "rotate" : "import",
                        .now = "2026-12-04T10:00:00Z"};
}

hsm::KeyInfo hsm_key() {
  hsm::KeyInfo i;
  i.label = "payments-key";
  i.id_hex = "01";
  i.type = hsm::KeyType::Aes256Gcm96;
  i.pkcs11_key_type = "AES";
  i.sensitive = i.extractable = true;
  return i;
}

hsm::Capabilities caps() {
  hsm::Capabilities c;
  c.rsa_oaep = c.aes_key_wrap_pad = true;
  return c;
}

// The answer of a world where everything works.
void answer(ImportObserved& o, const ImportStep& s) {
  switch (s.kind) {
    case Kind::ListAlgorithms:
      o.algorithms = std::vector<std::string>{"SHA256", "SHA1"};
      break;
    case Kind::OpenHsm:
      o.hsm = Status();
      break;
    case Kind::FindHsmKey:
      o.hsm_key = hsm_key();
      break;
    case Kind::Authorize:
      (s.attempt < 0 ? o.grant : o.attempts[s.attempt].grant) = ImportGrant{"allow-team", false};
      break;
    case Kind::ReadCapabilities:
      (s.attempt < 0 ? o.capabilities : o.attempts[s.attempt].capabilities) = caps();
      break;
    case Kind::ReadSecret:
      o.secret = nlohmann::json{{"data", {{"wrapped", base64_encode("offline-blob")}}}};
      break;
    case Kind::Begin:
      o.begun = true;
      break;
    case Kind::Prepare: {
      kms::WrappingKey w;
      w.key_id = o.found ? "" : "key-1";
      w.public_key_der = kKek;
      w.algorithm = s.target.wrapping_algorithm;
      o.attempts.push_back({w});
      break;
    }
    case Kind::RecordWrappingKey:
      o.attempts.back().recorded = true;
      break;
    case Kind::Wrap:
      o.attempts.back().wrapped = std::vector<std::uint8_t>{1, 2, 3};
      break;
    case Kind::Import:
      o.imported = kms::ImportResult{"key-1", "fake:key-1", o.rotate ? "v2" : "v1"};
      break;
    case Kind::LookAfter:
      o.state_after = "Enabled";
      break;
    case Kind::Record:
    case Kind::Fail:
      break;
  }
}

// Plans and answers until the plan asks for `until` (returned) or ends the pass.
ImportStep walk(ImportObserved& o, Kind until) {
  for (int i = 0; i < 40; ++i) {
    auto s = plan_import(o);
    if (s.kind == until || s.kind == Kind::Record || s.kind == Kind::Fail) return s;
    answer(o, s);
  }
  FAIL("the plan did not end");
  return {};
}

// The steps of a whole pass, in order.
std::vector<Kind> kinds(ImportObserved& o) {
  std::vector<Kind> out;
  for (int i = 0; i < 40; ++i) {
    auto s = plan_import(o);
    out.push_back(s.kind);
    if (s.kind == Kind::Record || s.kind == Kind::Fail) return out;
    answer(o, s);
  }
  return out;
}

Error err(ErrorKind kind, const std::string& message) { return Error{kind, message}; }

}  // namespace

TEST_CASE(
    "import plan: a first import from the HSM checks the source before the KMS changes, "
    "then prepares, records, asks the grant again, wraps, imports and records",
    "[importedkey][plan]") {
  auto k = make_key();
  auto o = observe(k);
  CHECK(kinds(o) == std::vector<Kind>{Kind::ListAlgorithms, Kind::OpenHsm, Kind::FindHsmKey,
                                      Kind::Authorize, Kind::ReadCapabilities, Kind::Begin,
                                      Kind::Prepare, Kind::RecordWrappingKey, Kind::Authorize,
                                      Kind::Wrap, Kind::Import, Kind::LookAfter, Kind::Record});
}

TEST_CASE(
    "import plan: material wrapped offline reads the Secret and never asks the HSM or a grant",
    "[importedkey][plan]") {
  auto k = make_key();
  k.spec.hsm.reset();
  k.spec.wrapped_secret = WrappedSecretSource{"wrapped", "wrapped", kek_fingerprint(), ""};
  auto o = observe(k);
  CHECK(kinds(o) == std::vector<Kind>{Kind::ListAlgorithms, Kind::ReadSecret, Kind::Begin,
                                      Kind::Prepare, Kind::RecordWrappingKey, Kind::Import,
                                      Kind::LookAfter, Kind::Record});
  auto again = observe(k);
  auto import = walk(again, Kind::Import);
  CHECK(import.wrapped == "offline-blob");
  CHECK_FALSE(import.event);  // nothing was wrapped here
  again.imported = kms::ImportResult{"key-1", "fake:key-1", "v1"};
  CHECK_FALSE(walk(again, Kind::LookAfter).audit);  // no HSM export to audit
}

TEST_CASE("import plan: each refusal before the KMS changes, with its reason",
          "[importedkey][plan]") {
  struct Row {
    const char* what;
    Kind at;  // the step whose answer the row sets
    std::function<void(ImportedKey&)> key;
    std::function<void(ImportObserved&)> answer;
    std::string reason;
    bool transient = false;
  };
  auto hsm_key_with = [](const std::function<void(hsm::KeyInfo&)>& f) {
    return [f](ImportObserved& o) {
      auto i = hsm_key();
      f(i);
      o.hsm_key = i;
    };
  };
  auto offline = [](ImportedKey& k) {
    k.spec.hsm.reset();
    k.spec.wrapped_secret = WrappedSecretSource{"wrapped", "wrapped", kek_fingerprint(), ""};
  };
  const std::vector<Row> rows = {
      {"the provider cannot import the type", Kind::ListAlgorithms, nullptr,
       [](auto& o) {
         o.algorithms = err(ErrorKind::Unsupported, "transit does not import ed25519 keys");
       },
       reasons::kUnsupportedKeyType},
      {"the provider's algorithms cannot be read", Kind::ListAlgorithms, nullptr,
       [](auto& o) { o.algorithms = err(ErrorKind::Unavailable, "503"); },
       kmsprovider::reasons::kKmsUnavailable, true},
      {"a key type this operator has no name for", Kind::ListAlgorithms,
       [](auto& k) { k.spec.key_type = "des3"; }, nullptr, reasons::kUnsupportedKeyType},
      {"no HSM configured", Kind::OpenHsm, nullptr,
       [](auto& o) { o.hsm = Status(err(ErrorKind::FailedPrecondition, "no --hsm-module")); },
       reasons::kHsmNotConfigured},
      {"the HSM cannot be opened", Kind::OpenHsm, nullptr,
       [](auto& o) { o.hsm = Status(err(ErrorKind::Unavailable, "C_Initialize")); },
       reasons::kHsmUnavailable, true},
      {"no such key in the HSM", Kind::FindHsmKey, nullptr,
       [](auto& o) { o.hsm_key = err(ErrorKind::NotFound, "no key"); }, reasons::kHsmKeyNotFound},
      {"a key that is not sensitive", Kind::FindHsmKey, nullptr,
       hsm_key_with([](auto& i) { i.sensitive = false; }), reasons::kHsmCannotWrap},
      {"a key that is not extractable", Kind::FindHsmKey, nullptr,
       hsm_key_with([](auto& i) { i.extractable = false; }), reasons::kHsmCannotWrap},
      {"a key of another type", Kind::FindHsmKey, nullptr,
       hsm_key_with([](auto& i) { i.type = hsm::KeyType::Aes128Gcm96; }),
       reasons::kHsmKeyTypeMismatch},
      {"the HSM's mechanisms cannot be read", Kind::ReadCapabilities, nullptr,
       [](auto& o) { o.capabilities = err(ErrorKind::Unavailable, "C_GetMechanismList"); },
       reasons::kHsmUnavailable, true},
      {"an HSM without RSA-OAEP", Kind::ReadCapabilities, nullptr,
       [](auto& o) { o.capabilities = hsm::Capabilities{}; }, reasons::kHsmCannotWrap},
      {"the Secret is missing", Kind::ReadSecret, offline,
       [](auto& o) { o.secret = err(ErrorKind::NotFound, "not found"); },
       reasons::kWrappedSecretNotFound},
      {"the Secret may not be read", Kind::ReadSecret, offline,
       [](auto& o) { o.secret = err(ErrorKind::PermissionDenied, "forbidden"); },
       reasons::kWrappedSecretNotFound},
      {"the Secret cannot be read now", Kind::ReadSecret, offline,
       [](auto& o) { o.secret = err(ErrorKind::Unavailable, "503"); },
       reasons::kWrappedSecretNotFound, true},
      {"the Secret lacks the key", Kind::ReadSecret, offline,
       [](auto& o) {
         o.secret = nlohmann::json{{"data", nlohmann::json::object()}};
       },
       reasons::kWrappedSecretInvalid},
      {"the Secret's value is empty", Kind::ReadSecret, offline,
       [](auto& o) {
         o.secret = nlohmann::json{{"data", {{"wrapped", ""}}}};
       },
       reasons::kWrappedSecretInvalid},
      {"offline material for a KMS that renews its wrapping key", Kind::ListAlgorithms,
       [offline](auto& k) { offline(k); },
       [](auto& o) {
         o.algorithms = std::vector<std::string>{"SHA256"};
         o.provider = "aws";
       },
       reasons::kWrappedSourceUnsupported},
      {"offline material under an algorithm the provider lacks", Kind::ListAlgorithms,
       [offline](auto& k) {
         offline(k);
         k.spec.wrapped_secret->wrapping_algorithm = "MD5";
       },
       [](auto& o) { o.algorithms = std::vector<std::string>{"SHA256"}; },
       reasons::kWrappedSecretInvalid},
      {"no source at all", Kind::ListAlgorithms, [](auto& k) { k.spec.hsm.reset(); },
       [](auto& o) { o.algorithms = std::vector<std::string>{"SHA256"}; }, reasons::kImportRefused},
  };
  for (const auto& row : rows) {
    SECTION(row.what) {
      auto k = make_key();
      if (row.key) row.key(k);
      auto o = observe(k);
      auto s = walk(o, row.at);
      if (s.kind == row.at) {
        if (row.answer)
          row.answer(o);
        else
          answer(o, s);
        s = walk(o, Kind::Record);
      }
      REQUIRE(s.kind == Kind::Fail);
      CHECK(s.failure.reason == row.reason);
      CHECK(s.failure.transient == row.transient);
      CHECK_FALSE(
          s.audit);  // nothing was exported: the grant's own refusal is audited by its asker
      CHECK_FALSE(o.begun);  // and nothing written or created in the KMS
      CHECK(o.attempts.empty());
    }
  }
}

TEST_CASE("import plan: the progress written before the KMS changes says what comes",
          "[importedkey][plan]") {
  auto k = make_key();
  SECTION("a first import may create the key") {
    auto o = observe(k);
    auto s = walk(o, Kind::Begin);
    CHECK(s.status->phase == phases::kCreatingKey);
    CHECK(s.status->conditions.front().message ==
          "preparing the import of payments (the KMS may create the key first)");
    CHECK_FALSE(s.event);  // the condition says it; the pass's last write replaces it
    CHECK(walk(o, Kind::Prepare).existing.empty());
  }
  SECTION("a container a crashed attempt made receives the material, no second key") {
    kms::KeyDescription pending;
    pending.key_id = "key-1";
    pending.state = "PendingImport";
    auto o = observe(k, pending);
    auto grant = walk(o, Kind::Authorize);
    CHECK(grant.attempt == -1);
    CHECK(grant.existing == "key-1");  // the account is asked about that key
    answer(o, grant);
    auto s = walk(o, Kind::Begin);
    CHECK(s.status->phase == phases::kImporting);
    CHECK(s.status->conditions.front().message ==
          "importing into key-1, which awaits its material");
    answer(o, s);
    auto prepare = plan_import(o);
    REQUIRE(prepare.kind == Kind::Prepare);
    CHECK(prepare.existing == "key-1");
  }
  SECTION("a rotation imports a new version") {
    k.status.imported = true;
    k.spec.allow_rotation = true;
    k.spec.rotate = 1;
    kms::KeyDescription current;
    current.key_id = "key-1";
    current.state = "Enabled";
    auto o = observe(k, current, true);
    auto s = walk(o, Kind::Begin);
    CHECK(s.status->phase == phases::kRotating);
    CHECK_FALSE(s.event);
    CHECK(walk(o, Kind::Import).import_kind == kms::ImportKind::NewVersion);
    answer(o, plan_import(o));
    auto last = walk(o, Kind::Record);
    REQUIRE(last.kind == Kind::Record);
    CHECK(last.event->reason == "Rotated");
    CHECK(last.status->rotation == k.spec.rotate);
  }
}

TEST_CASE("import plan: the wrapping key is recorded, then checked, before the HSM wraps",
          "[importedkey][plan]") {
  auto k = make_key();
  auto o = observe(k);
  auto record = walk(o, Kind::RecordWrappingKey);
  CHECK(record.status->wrapping_key_fingerprint == kek_fingerprint());
  CHECK(record.status->key_id == "key-1");  // the key the KMS made, before any import
  CHECK_FALSE(record.event);  // the audit's intent record names the wrapping key before the wrap

  SECTION("a KMS's failure to prepare ends the pass with its reason") {
    auto p = observe(k);
    walk(p, Kind::Prepare);
    p.attempts.push_back({err(ErrorKind::FailedPrecondition, "the import job is not active yet")});
    auto s = plan_import(p);
    CHECK(s.failure.reason == reasons::kKmsNotReady);
    CHECK(s.failure.message == "preparing the import: the import job is not active yet");
  }
  SECTION("a wrapping key the ClusterKmsProvider does not pin is refused and audited") {
    o.pinned_fingerprints = {"00ff"};
    auto s = walk(o, Kind::Wrap);
    REQUIRE(s.kind == Kind::Fail);
    CHECK(s.failure.reason == reasons::kWrappingKeyNotTrusted);
    REQUIRE(s.audit);
    CHECK(s.audit->stage == "refused");
    CHECK(s.audit->wrapping_key_fingerprint == kek_fingerprint());
    CHECK(s.audit->kms_key == "key-1");
    CHECK(s.audit->policy == "allow-team");
  }
  SECTION("a policy that wants an attested wrapping key refuses an unattested one") {
    auto s = walk(o, Kind::Authorize);
    REQUIRE(s.attempt == 0);
    o.attempts[0].grant = ImportGrant{"attested-only", true};
    s = plan_import(o);
    REQUIRE(s.kind == Kind::Fail);
    CHECK(s.failure.reason == reasons::kWrappingKeyNotTrusted);
    CHECK(s.audit->policy == "attested-only");  // the grant asked last
    CHECK_THAT(s.failure.message, Catch::EndsWith(": nothing was wrapped"));
  }
  SECTION("the wrap is announced in the audit trail first") {
    auto s = walk(o, Kind::Wrap);
    REQUIRE(s.kind == Kind::Wrap);
    CHECK(s.ref.describe() == "label \"payments-key\"");
    CHECK(s.wrapping.public_key_der == kKek);
    REQUIRE(s.audit);
    CHECK(s.audit->stage == "intent");
    CHECK(s.audit->outcome == "authorized");
  }
}

TEST_CASE(
    "import plan: the grant on the key found (it gates what the KMS creates) and the grant right "
    "before each wrap read the Namespace anew",
    "[importedkey][plan]") {
  auto k = make_key();
  auto o = observe(k);
  auto on_found = walk(o, Kind::Authorize);
  CHECK(on_found.attempt == -1);
  CHECK(on_found.fresh_namespace);
  answer(o, on_found);
  auto before_wrap = walk(o, Kind::Authorize);
  CHECK(before_wrap.attempt == 0);
  CHECK(before_wrap.fresh_namespace);
  SECTION("and so does the one before a second attempt's wrap") {
    answer(o, before_wrap);
    walk(o, Kind::Wrap);
    o.attempts[0].wrapped = err(ErrorKind::Unsupported, "CKR_MECHANISM_PARAM_INVALID");
    auto learned = caps();
    learned.oaep_sha256 = false;
    o.attempts[0].capabilities = learned;
    auto again = walk(o, Kind::Authorize);
    CHECK(again.attempt == 1);
    CHECK(again.fresh_namespace);
  }
}

TEST_CASE("import plan: what the HSM's wrap answers", "[importedkey][plan]") {
  auto k = make_key();
  auto o = observe(k);
  walk(o, Kind::Wrap);
  SECTION("a refused wrapping key is not trusted, audited as failed") {
    o.attempts[0].wrapped = err(ErrorKind::InvalidArgument, "WeakWrappingKey: e = 3");
    auto s = plan_import(o);
    CHECK(s.failure.reason == reasons::kWrappingKeyNotTrusted);
    CHECK(s.audit->outcome == "failed");
  }
  SECTION("an HSM without OAEP SHA-256 gets one more attempt with SHA-1, the first audited") {
    o.attempts[0].wrapped = err(ErrorKind::Unsupported, "CKR_MECHANISM_PARAM_INVALID");
    auto s = plan_import(o);
    REQUIRE(s.kind == Kind::ReadCapabilities);
    CHECK(s.attempt == 0);
    auto learned = caps();
    learned.oaep_sha256 = false;
    o.attempts[0].capabilities = learned;
    s = plan_import(o);
    REQUIRE(s.kind == Kind::Prepare);
    CHECK(s.target.wrapping_algorithm == "SHA1");
    CHECK(s.existing == "key-1");  // into the key the first attempt made
    REQUIRE(s.audit);
    CHECK_THAT(s.audit->message, Catch::EndsWith("(trying again with a mechanism the HSM has)"));
    answer(o, s);
    auto wrap = walk(o, Kind::Wrap);
    CHECK(wrap.spec.hash == hsm::OaepHash::Sha1);
    SECTION("and a second Unsupported ends the pass") {
      o.attempts[1].wrapped = err(ErrorKind::Unsupported, "still no");
      CHECK(plan_import(o).failure.reason == reasons::kHsmCannotWrap);  // hsm_failure's word for it
    }
  }
  SECTION("an HSM that does OAEP SHA-256 after all: the Unsupported is the HSM's failure") {
    o.attempts[0].wrapped = err(ErrorKind::Unsupported, "CKR_KEY_NOT_WRAPPABLE");
    walk(o, Kind::ReadCapabilities);
    o.attempts[0].capabilities = caps();
    auto s = plan_import(o);
    CHECK(s.failure.reason == reasons::kHsmCannotWrap);
    CHECK(s.failure.message ==
          "wrapping the key with label \"payments-key\" in the HSM: CKR_KEY_NOT_WRAPPABLE");
    CHECK(s.audit->outcome == "failed");
  }
  SECTION("a wrap is followed by the import, with the wrap's Event") {
    answer(o, plan_import(o));
    auto s = plan_import(o);
    REQUIRE(s.kind == Kind::Import);
    CHECK(s.import_kind == kms::ImportKind::First);
    CHECK(s.wrapped == std::string("\x01\x02\x03", 3));
    CHECK(s.target.wrapping_algorithm == "SHA256");
    CHECK(s.event->reason == "MaterialWrapped");
  }
}

TEST_CASE("import plan: the import's answer, audited either way", "[importedkey][plan]") {
  auto k = make_key();
  SECTION("success: the key's state is looked at, then the status records the import") {
    auto o = observe(k);
    auto look = walk(o, Kind::LookAfter);
    REQUIRE(look.audit);
    CHECK(look.audit->outcome == "succeeded");
    CHECK(look.audit->kms_key == "fake:key-1");
    CHECK(look.audit->wrapping_key_fingerprint == kek_fingerprint());
    answer(o, look);
    auto s = plan_import(o);
    REQUIRE(s.kind == Kind::Record);
    CHECK(s.status->imported);
    CHECK(s.status->key_state == "Enabled");
    CHECK(s.status->authorized_by == "allow-team");
    CHECK(s.event->note == "key material imported into fake:key-1 (version v1)");
  }
  SECTION("a KMS failure: its reason, audited with the key it was meant for") {
    auto o = observe(k);
    walk(o, Kind::Import);
    o.imported = err(ErrorKind::FailedPrecondition, "the import token expired");
    auto s = plan_import(o);
    CHECK(s.failure.reason == reasons::kKmsNotReady);
    CHECK(s.failure.message == "importing the key material: the import token expired");
    CHECK(s.audit->outcome == "failed");
    CHECK(s.audit->kms_key == "key-1");
  }
  SECTION("a KMS that takes no new versions") {
    k.status.imported = true;
    kms::KeyDescription current;
    current.key_id = "key-1";
    current.state = "Enabled";
    auto o = observe(k, current, true);
    walk(o, Kind::Import);
    o.imported = err(ErrorKind::Unsupported, "this key takes no new versions");
    CHECK(plan_import(o).failure.reason == reasons::kRotationUnsupported);
  }
  SECTION("offline material under another wrapping key than the Secret says") {
    k.spec.hsm.reset();
    k.spec.wrapped_secret = WrappedSecretSource{"wrapped", "wrapped", "00ff", ""};
    auto o = observe(k);
    auto s = walk(o, Kind::Import);
    CHECK(s.failure.reason == reasons::kWrappingKeyMismatch);
  }
}
