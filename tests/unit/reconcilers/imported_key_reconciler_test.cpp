// The ImportedKey reconciler's import path, run against the unit tests' fakes: an apiserver in
// memory (FakeKubeClient) holding a ClusterKmsProvider, its Secret, an HsmKeyPolicy and the
// ImportedKey; a KMS in memory (FakeKms) that unwraps what it is sent; an HSM in memory
// (FakeHsm) that wraps in software. The real ProviderRegistry, ExportAuthorizer and ExportAudit
// sit between them, as in the operator.

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "common/base64.h"
#include "controller/kube/resource.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/imported_key/ik_reconciler.h"
#include "reconcilers/imported_key/imported_key_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"
#include "tests/unit/kms/scripted_transport.h"
#include "tests/unit/support/fake_hsm.h"
#include "tests/unit/support/fake_kms.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/recorded_events.h"

using namespace byok;
using Json = nlohmann::json;
namespace res = byok::kube::resources;

namespace {

const Json kServesTeam = {{"matchLabels", {{"kubernetes.io/metadata.name", "team"}}}};

struct World {
  testing::FakeKubeClient api;
  runtime::Store store;
  std::unique_ptr<testing::FakeKms> kms_owned = std::make_unique<testing::FakeKms>();
  testing::FakeKms& kms = *kms_owned;  // the registry owns it once it built the client
  std::shared_ptr<testing::FakeHsm> hsm = std::make_shared<testing::FakeHsm>();
  bool hsm_configured = true;
  kmsprovider::ProviderRegistry registry{
      api,
      [this](const kms::ProviderConfig&) -> Result<kms::ProviderHandle> {
        if (!kms_owned)
          return make_error(ErrorKind::Internal, "the fake KMS was built once already");
        kms::ProviderHandle h;
        h.client = std::move(kms_owned);
        return h;
      },
      [] {
        kmsprovider::ProviderTrust t;
        t.cluster_namespace = "byok-system";  // where the ClusterKmsProvider's Secret is
        return t;
      }()};
  hsmpolicy::ExportAuthorizer authorizer{api};
  testing::RecordedEvents events;
  std::ostringstream audit_lines, log_lines;
  Logger audit_log{audit_lines, Logger::Format::Json};
  Logger log{log_lines};
  importedkey::ExportAudit audit{audit_log, events, "byok-system"};
  kms::testing::SettableClock clock;
  importedkey::ImportedKeyReconciler reconciler{api,
                                                store,
                                                registry,
                                                [this]() -> Result<std::shared_ptr<hsm::Hsm>> {
                                                  if (!hsm_configured)
                                                    return make_error(ErrorKind::FailedPrecondition,
                                                                      "no HSM is configured");
                                                  return std::shared_ptr<hsm::Hsm>(hsm);
                                                },
                                                authorizer,
                                                audit,
                                                events,
                                                clock,
                                                log};

  World() {
    parse_rfc3339("2026-12-04T10:00:00Z", clock.wall);
    api.put(
        res::namespaces(),
        {{"metadata", {{"name", "team"}, {"labels", {{"kubernetes.io/metadata.name", "team"}}}}}});
    api.put(kmsprovider::cluster_kms_providers(),
            {{"apiVersion", "byok.dev/v1alpha1"},
             {"kind", "ClusterKmsProvider"},
             {"metadata", {{"name", "vault"}}},
             {"spec",
              {{"type", "transit"},
               {"endpoint", "https://vault.example.com:8200"},
               {"credentialsSecretRef", {{"name", "admin-token"}}},
               {"namespaceSelector", kServesTeam}}}});
    api.put(res::secrets(), {{"metadata", {{"name", "admin-token"}, {"namespace", "byok-system"}}},
                             {"data", {{"token", base64_encode("s.admin")}}}});
    api.put(hsmpolicy::hsm_key_policies(),
            {{"metadata", {{"name", "allow-team"}}},
             {"spec",
              {{"namespaceSelector", kServesTeam},
               {"keys", {{{"label", "payments-*"}}}},
               {"destinations", {{{"clusterKmsProvider", "vault"}}}}}}});
    hsm->add_key("payments-key", hsm::KeyType::Aes256Gcm96);
  }

  void create_key(const Json& spec_extra = Json::object()) {
    Json spec = {{"providerRef", {{"kind", "ClusterKmsProvider"}, {"name", "vault"}}},
                 {"keyType", "aes256-gcm96"},
                 {"source", {{"hsm", {{"label", "payments-key"}}}}}};
    spec.merge_patch(spec_extra);
    api.put(importedkey::imported_keys(), {{"apiVersion", "byok.dev/v1alpha1"},
                                           {"kind", "ImportedKey"},
                                           {"metadata",
                                            {{"name", "payments"},
                                             {"namespace", "team"},
                                             {"uid", "uid-payments"},
                                             {"generation", 1},
                                             {"finalizers", {"byok.dev/importedkey"}}}},
                                           {"spec", spec}});
  }
  Json object() const { return *api.object(importedkey::imported_keys(), "team", "payments"); }
  Json status() const { return object().value("status", Json::object()); }
  // One reconcile of the object as the apiserver holds it now (the watch would bring it).
  runtime::ReconcileResult reconcile() {
    store.upsert(object());
    return reconciler.reconcile("team/payments");
  }
  std::string ready(const char* field) const {
    for (const auto& c : status().value("conditions", Json::array()))
      if (c.value("type", "") == "Ready") return c.value(field, "");
    return "";
  }
  std::vector<Json> audit_records() const {
    std::vector<Json> out;
    std::istringstream lines(audit_lines.str());
    for (std::string line; std::getline(lines, line);) out.push_back(Json::parse(line));
    return out;
  }
  // The audit log's records, as "<stage> <outcome>".
  std::vector<std::string> audited() const {
    std::vector<std::string> out;
    for (const auto& r : audit_records())
      out.push_back(r.value("stage", "") + " " + r.value("outcome", ""));
    return out;
  }
  testing::FakeKms::Key& kms_key() {
    REQUIRE(kms.keys.size() == 1);
    return kms.keys.begin()->second;
  }
  const std::vector<std::uint8_t>& hsm_material() const { return hsm->keys.front().material; }
};

// The string fields of `o`, in the order named ("" for a missing one).
std::vector<std::string> fields(const Json& o, std::initializer_list<const char*> names) {
  std::vector<std::string> out;
  for (const char* n : names) out.push_back(o.value(n, ""));
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("importedkey executor: a first import wraps in the HSM, imports once and records it",
          "[importedkey][executor]") {
  World w;
  w.create_key();
  auto r = w.reconcile();
  CHECK(r.action == runtime::ReconcileResult::Action::RequeueAfter);
  auto st = w.status();
  CHECK(st.value("imported", false));
  CHECK(fields(st, {"phase", "keyId", "keyVersion", "keyState", "authorizedBy",
                    "wrappingKeyFingerprint"}) ==
        std::vector<std::string>{"Imported", "fake:key-1", "v1", "Enabled", "allow-team",
                                 w.kms.wrapping_key_fingerprint()});
  CHECK(w.ready("reason") == "Imported");
  // The KMS holds exactly the HSM's key, sent once.
  CHECK(w.kms_key().material == w.hsm_material());
  CHECK(w.kms_key().owner == "uid-payments");
  CHECK(w.kms.log.count("prepare_import") == 1);
  CHECK(w.kms.log.count("import_key") == 1);
  CHECK(w.kms.violations.empty());
  CHECK(w.hsm->log.count("wrap_key") == 1);
  // Progress written before each step with a side effect in the KMS: begin, wrapping key, done.
  CHECK(w.api.log.count("patch") == 3);
  // The audit's records (the tenant's and the admin's copy), the wrap, how the import ended; no
  // Event repeats a condition the pass's last write replaced (ImportStarted, WrappingKeyFetched).
  CHECK(w.events.reasons() == std::vector<std::string>{"ExportAuthorized", "ExportAuthorized",
                                                       "MaterialWrapped", "ExportCompleted",
                                                       "ExportCompleted", "Imported"});
  // One read of the Namespace for the early checks (the grant on the spec, the
  // ClusterKmsProvider's namespaceSelector), one for the grant on the key found (it gates what
  // the KMS creates), one right before the wrap.
  const auto& calls = w.api.log.calls;
  CHECK(std::count(calls.begin(), calls.end(), "get namespaces//team") == 3);

  SECTION("the next pass only observes") {
    w.reconcile();
    CHECK(w.kms.log.count("prepare_import") == 1);
    CHECK(w.kms.log.count("import_key") == 1);
    CHECK(w.ready("reason") == "KeyUsable");
  }
}

TEST_CASE("importedkey executor: every export leaves an intent and an outcome in the audit log",
          "[importedkey][executor][audit]") {
  World w;
  w.create_key();
  w.reconcile();
  CHECK(w.audited() == std::vector<std::string>{"intent authorized", "outcome succeeded"});
  CHECK(fields(w.audit_records().back(), {"log", "requester", "hsmKey", "destination", "kmsKey",
                                          "policy", "wrappingKeyFingerprint"}) ==
        std::vector<std::string>{"audit", "team/payments", "label \"payments-key\"",
                                 "ClusterKmsProvider vault", "fake:key-1", "allow-team",
                                 w.kms.wrapping_key_fingerprint()});
  CHECK(has(w.events.reasons(), "ExportCompleted"));
}

TEST_CASE(
    "importedkey executor: without a grant nothing is read from the KMS or the HSM, and the "
    "refusal is audited",
    "[importedkey][executor][audit]") {
  World w;
  REQUIRE(w.api.remove(hsmpolicy::hsm_key_policies(), "", "allow-team", ""));
  w.create_key();
  w.reconcile();
  CHECK(w.ready("reason") == "NotAuthorized");
  CHECK(w.audited() == std::vector<std::string>{"refused refused"});
  CHECK(w.kms.log.calls.empty());
  CHECK(w.hsm->log.calls.empty());
}

TEST_CASE(
    "importedkey executor: a controller stopped after the KMS made the key resumes into it "
    "(found by name and owner), never making a second",
    "[importedkey][executor]") {
  World w;
  w.create_key();
  w.hsm->log.fail_next("wrap_key", Error{ErrorKind::Unavailable, "the HSM went away"});
  auto r = w.reconcile();
  CHECK(r.action == runtime::ReconcileResult::Action::RetryBackoff);
  CHECK(w.ready("reason") == "HsmUnavailable");
  CHECK(w.status().value("keyId", "") == "key-1");  // recorded before the wrap
  CHECK(w.audited() == std::vector<std::string>{"intent authorized", "outcome failed"});

  w.reconcile();
  CHECK(w.status().value("imported", false));
  CHECK(w.kms.keys.size() == 1);
  REQUIRE(w.kms.log.count("prepare_import") == 2);
  CHECK(w.kms.log.calls.end() !=
        std::find_if(w.kms.log.calls.begin(), w.kms.log.calls.end(), [](const auto& c) {
          return c.rfind("prepare_import", 0) == 0 && c.find("into key-1") != std::string::npos;
        }));
  CHECK(w.kms.log.count("import_key") == 1);
  CHECK(w.kms_key().material == w.hsm_material());
  CHECK(w.kms.violations.empty());
}

TEST_CASE(
    "importedkey executor: a grant that cannot be checked is retried before anything is "
    "asked of the KMS",
    "[importedkey][executor]") {
  World w;
  w.create_key();
  w.api.log.fail_next(
      "get", Error{ErrorKind::Unavailable, "the apiserver is restarting"});  // the Namespace
  auto r = w.reconcile();
  CHECK(r.action == runtime::ReconcileResult::Action::RetryBackoff);
  CHECK(w.ready("reason") == "HsmUnavailable");
  CHECK(w.kms.log.calls.empty());
  CHECK(w.hsm->log.calls.empty());
}

TEST_CASE(
    "importedkey executor: a namespace relabelled while the KMS prepares stops the wrap: the "
    "last grant reads the Namespace anew",
    "[importedkey][executor][audit]") {
  World w;
  w.create_key();
  w.kms.during_prepare = [&] {
    w.api.put(res::namespaces(),
              {{"metadata", {{"name", "team"}, {"labels", {{"tier", "moved"}}}}}});
  };
  w.reconcile();
  CHECK(w.ready("reason") == "NotAuthorized");
  CHECK(w.hsm->log.count("wrap_key") == 0);
  CHECK(w.kms.log.count("import_key") == 0);
  CHECK(w.audited() == std::vector<std::string>{"refused refused"});
  // The status still records the key the KMS made.
  CHECK(w.status().value("keyId", "") == "key-1");
}

TEST_CASE("importedkey executor: an import whose recording was lost is adopted, not sent again",
          "[importedkey][executor]") {
  World w;
  w.create_key();
  w.reconcile();
  REQUIRE(w.status().value("imported", false));
  // The status as it was before the import was recorded (the write lost with the controller).
  auto lost = w.object();
  lost["status"] = {{"phase", "Importing"}, {"keyId", "key-1"}};
  w.api.put(importedkey::imported_keys(), lost);
  w.reconcile();
  CHECK(w.status().value("imported", false));
  CHECK(w.status().value("keyId", "") == "fake:key-1");
  CHECK(w.kms.log.count("import_key") == 1);
  CHECK(has(w.events.reasons(), "Adopted"));
  CHECK(w.kms.violations.empty());
}

TEST_CASE("importedkey executor: spec.rotate imports new material as a new version",
          "[importedkey][executor]") {
  World w;
  w.create_key({{"allowRotation", true}});
  w.reconcile();
  REQUIRE(w.status().value("keyVersion", "") == "v1");
  auto o = w.object();
  o["spec"]["rotate"] = 1;
  o["metadata"]["generation"] = 2;
  w.api.put(importedkey::imported_keys(), o);
  w.reconcile();
  auto st = w.status();
  CHECK(st.value("keyVersion", "") == "v2");
  CHECK(st.value("rotation", 0) == 1);
  CHECK(w.kms_key().versions == 2);
  CHECK(w.kms.log.count("import_key") == 2);
  CHECK(w.kms.keys.size() == 1);
  CHECK(w.kms.violations.empty());
  CHECK_FALSE(has(w.events.reasons(), "RotationStarted"));
  CHECK(has(w.events.reasons(), "Rotated"));
  CHECK(w.audit_records().back().value("action", "") == "rotate");
}

TEST_CASE("importedkey executor: a refusal of check_target leaves nothing created or exported",
          "[importedkey][executor]") {
  World w;
  w.kms.target_refusal =
      Error{ErrorKind::InvalidArgument, "spec.validTo is more than 365 days ahead"};
  w.create_key();
  w.reconcile();
  CHECK(w.ready("reason") == "SpecNotImportable");
  CHECK(w.ready("message") == "spec.validTo is more than 365 days ahead");
  CHECK(w.kms.keys.empty());
  CHECK(w.kms.log.count("find_key") == 0);
  CHECK(w.kms.log.count("prepare_import") == 0);
  CHECK(w.hsm->log.count("wrap_key") == 0);
  CHECK(w.audited().empty());
}

TEST_CASE("importedkey executor: the KMS's import failures map to the condition's reason",
          "[importedkey][executor]") {
  struct Row {
    ErrorKind kind;
    const char* reason;
    runtime::ReconcileResult::Action action;
  };
  using A = runtime::ReconcileResult::Action;
  for (const auto& row : {Row{ErrorKind::FailedPrecondition, "KmsNotReady", A::RequeueAfter},
                          Row{ErrorKind::InvalidArgument, "ImportRefused", A::RequeueAfter},
                          Row{ErrorKind::Unavailable, "KmsUnavailable", A::RetryBackoff}}) {
    World w;
    w.create_key();
    w.kms.log.fail_next("import_key", Error{row.kind, "the KMS said no"});
    auto r = w.reconcile();
    CHECK(r.action == row.action);
    CHECK(w.ready("reason") == row.reason);
    CHECK_FALSE(w.status().value("imported", false));
    CHECK(w.audited() == std::vector<std::string>{"intent authorized", "outcome failed"});
    // The admin's KMS answered: the tenant's condition does not carry its words.
    CHECK(w.ready("message").find("the KMS said no") == std::string::npos);
    CHECK(w.log_lines.str().find("the KMS said no") != std::string::npos);
  }
}

TEST_CASE("importedkey executor: an HSM without OAEP SHA-256 is asked again with SHA-1",
          "[importedkey][executor]") {
  World w;
  w.hsm->oaep_sha256_works = false;
  w.create_key();
  w.reconcile();
  CHECK(w.status().value("imported", false));
  CHECK(w.hsm->log.count("wrap_key") == 2);
  CHECK(w.kms.log.count("prepare_import") == 2);
  CHECK(w.kms.log.count("import_key") == 1);
  CHECK(w.kms.keys.size() == 1);
  CHECK(w.kms_key().material == w.hsm_material());
  CHECK(w.audited() == std::vector<std::string>{"intent authorized", "outcome failed",
                                                "intent authorized", "outcome succeeded"});
}

TEST_CASE("importedkey executor: no HSM configured", "[importedkey][executor]") {
  World w;
  w.hsm_configured = false;
  w.create_key();
  w.reconcile();
  CHECK(w.ready("reason") == "HsmNotConfigured");
  CHECK(w.kms.keys.empty());
}
