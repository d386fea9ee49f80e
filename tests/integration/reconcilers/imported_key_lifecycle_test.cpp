// ImportedKey through its life with the real operator process: killed at each step of the
// import and restarted (exactly one key in the KMS, never a silent half-import), rotation with
// and without allowRotation, an offline-wrapped Secret made for another wrapping key, deletion
// with Retain and Delete, and a search of the operator's log and of every object in the
// apiserver for the test keys' plaintext.

#include <thread>

#include "common/failpoint.h"

#include "kms/aws/aws_kms_client.h"
#include "kms/azure/byok_file.h"
#include "tests/chart/chart_support.h"
#include "tests/integration/reconcilers/ik_test_support.h"

using namespace byok;
using namespace byok::iktest;

namespace {

// The keys in the AWS emulator whose owner tag is `uid`.
int aws_keys_owned_by(const std::string& uid) {
  static RealClock clock;
  auto config = testing::provider_config_from_env("aws");
  auto transport = kms::make_http_transport({std::chrono::seconds(10), config.extra_ca_pem});
  auto built = kms::aws::AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE(built.ok());
  auto* aws = built->get();
  auto ids = aws->list_keys();
  REQUIRE(ids.ok());
  int n = 0;
  for (const auto& id : *ids) {
    auto tags = aws->list_resource_tags(id);
    if (tags && tags->count("byok.dev/owner") && tags->at("byok.dev/owner") == uid) ++n;
  }
  return n;
}

std::string uid_of(IkFixture& f, const std::string& name) {
  auto o = f.c.get(kIk, f.ns, name);
  REQUIRE(o.ok());
  return (*o)["metadata"].value("uid", "");
}

bool wait_exit(testing::ChildProcess& p, std::chrono::seconds timeout = 60s) {
  return testing::wait_until([&] { return !p.running(); }, timeout);
}

// kubectl from the control plane's env file (tests/harness/control-plane.sh writes it).
std::string kubectl() {
  std::string dir = testing::kubeconfig_path();
  dir = dir.substr(0, dir.rfind('/'));
  auto env = testing::read_file(dir + "/env");
  auto at = env.find("BYOK_KUBECTL='");
  REQUIRE(at != std::string::npos);
  at += 14;
  return env.substr(at, env.find('\'', at) - at) + " --kubeconfig " + testing::kubeconfig_path();
}

// Every way key bytes could show in text: raw, hex (either case), base64 and base64url at each
// of the three byte alignments (a run of 24 bytes from the middle of the material).
std::vector<std::string> leak_forms(const std::string& material) {
  std::vector<std::string> forms{material};
  static const char* lower = "0123456789abcdef";
  static const char* upper = "0123456789ABCDEF";
  std::string hl, hu;
  for (unsigned char c : material.substr(0, 24)) {
    hl += lower[c >> 4];
    hl += lower[c & 15];
    hu += upper[c >> 4];
    hu += upper[c & 15];
  }
  forms.push_back(hl);
  forms.push_back(hu);
  size_t mid = material.size() / 2 > 30 ? material.size() / 2 - 30 : 0;
  for (size_t shift = 0; shift < 3; ++shift) {
    std::string run = material.substr(mid + shift, 24);
    for (const auto& enc : {base64_encode(run), base64url_encode(run)}) {
      forms.push_back(enc.substr(0, 32));  // 24 bytes: 32 characters, no padding
    }
  }
  return forms;
}

}  // namespace

TEST_CASE(
    "importedkey: killed at each step of the import, the restarted operator finishes with "
    "exactly one key",
    "[aws][importedkey]") {
  IkFixture f("ik-crash");
  f.provider("aws");
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"importedkey.before-prepare", "CreatingKey"},
      {"importedkey.after-prepare", "CreatingKey"},
      {"importedkey.before-import", "Importing"},
      {"importedkey.after-import", "Importing"},
  };
  int i = 0;
  for (const auto& [failpoint, phase] : steps) {
    INFO("failpoint " << failpoint);
    std::string name = "crash-" + std::to_string(i++);
    f.add_key(name, "aes256-gcm96");
    f.create(imported_key(name, "aws", "aes256-gcm96", name,
                          {{"kmsKeyName", testing::unique_name(name)}}));
    f.start(failpoint);
    REQUIRE(wait_exit(*f.op));
    CHECK(f.op->exit_status() == kFailpointExitCode);
    // What the crash left: the progress marker, and a condition that says the import is not done.
    auto st = f.status(name);
    CHECK(st.value("phase", "") == phase);
    CHECK_FALSE(st.value("imported", false));
    CHECK(testing::condition_field(st, "Imported") == "ImportInProgress");
    f.start();
    st = f.wait_for(name);
    // Before the stop: the reconciler's Events go out from the recorder's thread.
    if (failpoint == "importedkey.after-import")
      CHECK(testing::count_arrived_events(f.c, f.ns, name, "Adopted") == 1);
    f.op->terminate();
    CHECK(aws_keys_owned_by(uid_of(f, name)) == 1);
    check_kms_holds("aws", st, f.keys.at(name));
  }
}

TEST_CASE(
    "importedkey: rotation imports new material as a new version with allowRotation, and "
    "admission refuses it without",
    "[transit][importedkey]") {
  IkFixture f("ik-rotate");
  f.provider("transit");
  f.add_key("rot", "aes256-gcm96");
  f.add_key("fixed", "aes256-gcm96");
  f.create(imported_key("rot", "transit", "aes256-gcm96", "rot",
                        {{"kmsKeyName", testing::unique_name("rot")}, {"allowRotation", true}}));
  f.create(imported_key("fixed", "transit", "aes256-gcm96", "fixed",
                        {{"kmsKeyName", testing::unique_name("fixed")}}));
  f.start();
  auto st = f.wait_for("rot");
  CHECK(st.value("keyVersion", "") == "1");
  check_kms_holds("transit", st, f.keys.at("rot"));
  f.wait_for("fixed");

  // New material under the same label, as a ceremony replaces the key in the HSM.
  {
    auto s = f.token.raw_session();
    auto h = hsm::test::find_object(*s, CKO_SECRET_KEY, "rot");
    REQUIRE(s->fn()->C_DestroyObject(s->handle(), h) == CKR_OK);
  }
  f.keys.erase("rot");
  const auto& second = f.add_key("rot", "aes256-gcm96");
  std::this_thread::sleep_for(1500ms);  // past the HSM's handle cache
  REQUIRE(f.c.patch(kIk, f.ns, "rot", kube::PatchType::Merge, {{"spec", {{"rotate", 1}}}}).ok());
  REQUIRE(testing::wait_until([&] { return f.status("rot").value("rotation", 0) == 1; }, 60s));
  st = f.wait_for("rot");
  CHECK(st.value("keyVersion", "") == "2");
  check_kms_holds("transit", st, second);
  CHECK(testing::count_arrived_events(f.c, f.ns, "rot", "Rotated") == 1);

  // Without allowRotation the apiserver refuses the request, saying why and what to do.
  auto refused = f.c.patch(kIk, f.ns, "fixed", kube::PatchType::Merge, {{"spec", {{"rotate", 1}}}});
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message, Catch::Contains("allowRotation"));
  // allowRotation itself is fixed at create.
  auto flip =
      f.c.patch(kIk, f.ns, "fixed", kube::PatchType::Merge, {{"spec", {{"allowRotation", true}}}});
  REQUIRE_FALSE(flip.ok());
  CHECK_THAT(flip.error().message, Catch::Contains("fixed at create"));
}

TEST_CASE(
    "importedkey: material wrapped offline for another wrapping key is refused with both "
    "fingerprints",
    "[transit][importedkey]") {
  IkFixture f("ik-mismatch");
  f.provider("transit");
  auto material = testing::make_material("aes256-gcm96");
  std::string kms_name = testing::unique_name("offline");
  auto w = wrap_offline("transit", kms_name, "aes256-gcm96", material.bytes);
  const std::string real_fingerprint = w.fingerprint;
  w.fingerprint = kms::aws::sha256_hex("some other wrapping key");
  create_wrapped_secret(f.c, f.ns, "offline", w.wrapped);
  auto object = imported_key("offline", "transit", "aes256-gcm96", "", {{"kmsKeyName", kms_name}});
  object["spec"]["source"] = wrapped_source("offline", w);
  f.create(object);
  f.start();
  auto st = f.wait_for("offline", "WrappingKeyMismatch");
  auto message = testing::condition_field(st, "Ready", "message");
  CHECK_THAT(message, Catch::Contains(real_fingerprint));
  CHECK_THAT(message, Catch::Contains(w.fingerprint));
  CHECK_FALSE(st.value("imported", true));
  // Nothing was created in the KMS.
  auto handle = kms_client("transit");
  CHECK_FALSE(handle.client->describe_key(kms_name).ok());
  CHECK(testing::count_arrived_events(f.c, f.ns, "offline", "WrappingKeyMismatch") == 1);
}

TEST_CASE(
    "importedkey: an Azure .byok file from an offline ceremony is imported as written, one "
    "for another KEK is refused",
    "[azure][importedkey]") {
  IkFixture f("ik-byok-file");
  f.provider("azure");
  auto make_secret = [&](const std::string& name, const std::string& file) {
    auto r = f.c.create(kube::resources::secrets(), f.ns,
                        {{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", name}, {"namespace", f.ns}}},
                         {"data", {{"key.byok", base64_encode(file)}}}});
    REQUIRE(r.ok());
  };
  auto add = [&](const std::string& name, const std::string& kid_override) {
    const auto& known =
        f.keys.emplace(name, KnownKey{"rsa-2048", testing::make_material("rsa-2048")})
            .first->second;
    const std::string kms_name = testing::unique_name(name);
    auto w = wrap_offline("azure", kms_name, "rsa-2048", known.material.bytes);
    REQUIRE_FALSE(w.kid.empty());
    // What byokctl azure-byok-export writes.
    make_secret(name, kms::azure::make_byok_file(kid_override.empty() ? w.kid : kid_override,
                                                 w.wrapped, "byokctl test"));
    auto object = imported_key(name, "azure", "rsa-2048", "", {{"kmsKeyName", kms_name}});
    object["spec"]["source"] = {
        {"wrappedSecretRef",
         {{"name", name}, {"key", "key.byok"}, {"wrappingKeyFingerprint", w.fingerprint}}}};
    f.create(object);
  };
  add("ceremony", "");
  add("foreign", "https://contoso.vault.azure.net/keys/someone-elses-kek/0123456789abcdef");
  f.start();
  auto st = f.wait_for("ceremony");
  check_kms_holds("azure", st, f.keys.at("ceremony"));
  auto refused = f.wait_for("foreign", "ImportRefused");
  CHECK_FALSE(refused.value("imported", true));
  CHECK_THAT(testing::condition_field(refused, "Ready", "message"),
             Catch::Contains("someone-elses-kek"));
}

namespace {

// On an AWS KMS (moto, or local-kms: `provider`).
void deletion_policies(const std::string& provider) {
  IkFixture f("ik-delete");
  f.provider(provider);
  f.add_key("kept", "aes256-gcm96");
  f.add_key("gone", "aes256-gcm96");
  f.create(imported_key("kept", provider, "aes256-gcm96", "kept",
                        {{"kmsKeyName", testing::unique_name("kept")}}));
  f.create(imported_key("gone", provider, "aes256-gcm96", "gone",
                        {{"kmsKeyName", testing::unique_name("gone")},
                         {"deletionPolicy", "Delete"},
                         {"deletionWindowDays", 7}}));
  f.start();
  auto kept = f.wait_for("kept");
  auto gone = f.wait_for("gone");
  for (const auto* name : {"kept", "gone"}) REQUIRE(f.c.remove(kIk, f.ns, name).ok());
  REQUIRE(testing::wait_until(
      [&] { return !f.c.get(kIk, f.ns, "kept").ok() && !f.c.get(kIk, f.ns, "gone").ok(); }, 60s));
  auto handle = kms_client(provider);
  auto k = handle.client->describe_key(kept.value("keyId", ""));
  REQUIRE(k.ok());
  CHECK(k->state == "Enabled");
  auto g = handle.client->describe_key(gone.value("keyId", ""));
  REQUIRE(g.ok());
  CHECK(g->state == "PendingDeletion");
  REQUIRE(g->deletion_date);
  auto days = std::chrono::duration_cast<std::chrono::hours>(*g->deletion_date -
                                                             std::chrono::system_clock::now())
                  .count() /
              24.0;
  CHECK(days > 6.0);
  CHECK(days < 7.5);
  CHECK(testing::count_arrived_events(f.c, f.ns, "kept", "KeyRetained") == 1);
  CHECK(testing::count_arrived_events(f.c, f.ns, "gone", "KeyDeletionScheduled") == 1);
  // The deletion is on the audit trail: an intent and a success naming the key, nothing for
  // the retained one.
  f.op->terminate();
  std::istringstream log(testing::read_file(f.log_path));
  std::vector<std::string> deletion;
  for (std::string line; std::getline(log, line);) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("log", "") != "audit" || j.value("stage", "") != "deletion")
      continue;
    CHECK(j.value("requester", "") == f.ns + "/gone");
    CHECK(j.value("kmsKey", "").find(last_segment(gone.value("keyId", ""))) != std::string::npos);
    deletion.push_back(j.value("outcome", ""));
  }
  CHECK(deletion == std::vector<std::string>{"intent", "succeeded"});
}

}  // namespace

TEST_CASE("importedkey: deleting with Retain leaves the key, with Delete schedules its deletion",
          "[aws][importedkey]") {
  deletion_policies("aws");
}

TEST_CASE(
    "importedkey on local-kms: deleting with Retain leaves the key, with Delete schedules "
    "its deletion",
    "[localkms][importedkey]") {
  deletion_policies("localkms");
}

TEST_CASE(
    "importedkey: what AWS would refuse (validTo two years ahead, an RSA key with "
    "allowRotation) is refused before any key is created, in words the tenant reads through "
    "the admin's ClusterKmsProvider, and the fixed spec imports",
    "[aws][importedkey]") {
  IkFixture f("ik-aws-rules");
  f.provider("aws");
  f.add_key("late", "aes256-gcm96");
  f.add_key("rotating-rsa", "rsa-2048");
  const std::string two_years =
      format_rfc3339(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
                     std::chrono::hours(24 * 730));
  f.create(imported_key("late", "aws", "aes256-gcm96", "late",
                        {{"kmsKeyName", testing::unique_name("late")}, {"validTo", two_years}}));
  f.create(imported_key("rotating-rsa", "aws", "rsa-2048", "rotating-rsa",
                        {{"kmsKeyName", testing::unique_name("rsa")}, {"allowRotation", true}}));
  f.start();
  auto late = f.wait_for("late", "SpecNotImportable");
  auto late_message = testing::condition_field(late, "Ready", "message");
  CHECK(late_message.find("spec.validTo " + two_years + " is more than 365 days ahead") !=
        std::string::npos);
  auto rsa = f.wait_for("rotating-rsa", "SpecNotImportable");
  CHECK(testing::condition_field(rsa, "Ready", "message").find("spec.allowRotation") !=
        std::string::npos);
  // Nothing was created in the KMS for either: no key carries their owner marks.
  auto handle = kms_client("aws");
  for (const auto* name : {"late", "rotating-rsa"}) {
    auto object = f.c.get(kIk, f.ns, name);
    REQUIRE(object.ok());
    kms::ImportTarget owned;
    owned.name = testing::unique_name("no-such-alias");
    owned.owner = (*object)["metadata"]["uid"].get<std::string>();
    auto found = handle.client->find_key(owned);
    REQUIRE(found.ok());
    CHECK_FALSE(found->has_value());
  }
  // The fix is a spec change: a validTo within the year imports.
  const std::string in_a_month =
      format_rfc3339(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
                     std::chrono::hours(24 * 30));
  REQUIRE(
      f.c.patch(kIk, f.ns, "late", kube::PatchType::Merge, {{"spec", {{"validTo", in_a_month}}}})
          .ok());
  auto imported = f.wait_for("late");
  auto key = handle.client->describe_key(imported.value("keyId", ""));
  REQUIRE(key.ok());
  REQUIRE(key->material_expires);
  CHECK(format_rfc3339(*key->material_expires) == in_a_month);
}

namespace {

// On an AWS KMS (moto, or local-kms: `provider`).
void revoke_and_reimport(const std::string& provider) {
  IkFixture f("ik-revoked");
  f.provider(provider);
  const auto& known = f.add_key("revoked", "aes256-gcm96");
  auto object = imported_key("revoked", provider, "aes256-gcm96", "revoked",
                             {{"kmsKeyName", testing::unique_name("revoked")}});
  object["metadata"]["annotations"] = {{"byok.dev/verify-interval", "1s"}};  // look every second
  f.create(object);
  f.start();
  auto st = f.wait_for("revoked");

  // The security team revokes the key in an emergency: AWS DeleteImportedKeyMaterial.
  static RealClock clock;
  auto config = testing::provider_config_from_env(provider);
  auto transport = kms::make_http_transport({std::chrono::seconds(10), config.extra_ca_pem});
  auto built = kms::aws::AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE(built.ok());
  const std::string key_id = st.value("keyId", "");
  REQUIRE((*built)->delete_imported_key_material(key_id).ok());

  auto missing = f.wait_for("revoked", "KeyMaterialMissing", 30s);
  CHECK_THAT(testing::condition_field(missing, "Ready", "message"),
             Catch::Contains("byok.dev/reimport"));
  // Several looks later (one a second), still not put back.
  std::this_thread::sleep_for(4s);
  auto described = (*built)->describe_key(key_id);
  REQUIRE(described.ok());
  CHECK(described->state == "PendingImport");
  CHECK(testing::condition_field(f.status("revoked"), "Ready") == "KeyMaterialMissing");

  // Asked for explicitly: imported once more, the request recorded.
  auto patched =
      f.c.patch(kIk, f.ns, "revoked", kube::PatchType::Merge,
                {{"metadata", {{"annotations", {{"byok.dev/reimport", "incident-42-closed"}}}}}});
  REQUIRE(patched.ok());
  REQUIRE(testing::wait_until(
      [&] { return f.status("revoked").value("reimport", "") == "incident-42-closed"; }, 60s));
  auto back = f.wait_for("revoked");
  CHECK(back.value("keyState", "") == "Enabled");
  check_kms_holds(provider, back, known);
}

}  // namespace

TEST_CASE(
    "importedkey: material deleted in the KMS stays deleted until the reimport annotation "
    "asks for it",
    "[aws][importedkey]") {
  revoke_and_reimport("aws");
}

TEST_CASE(
    "importedkey on local-kms: material deleted in the KMS stays deleted until the "
    "reimport annotation asks for it",
    "[localkms][importedkey]") {
  revoke_and_reimport("localkms");
}

TEST_CASE("importedkey: no key material in the operator's log or in any object of the apiserver",
          "[transit][importedkey]") {
  IkFixture f("ik-noleak");
  f.provider("transit");
  const auto& hsm_key = f.add_key("in-hsm", "aes256-gcm96");
  f.create(imported_key("in-hsm", "transit", "aes256-gcm96", "in-hsm",
                        {{"kmsKeyName", testing::unique_name("in-hsm")}}));
  // And a private key wrapped offline: its Secret holds only the wrap.
  auto rsa = testing::make_material("rsa-2048");
  std::string kms_name = testing::unique_name("offline-rsa");
  auto w = wrap_offline("transit", kms_name, "rsa-2048", rsa.bytes);
  create_wrapped_secret(f.c, f.ns, "offline-rsa", w.wrapped);
  auto object = imported_key("offline-rsa", "transit", "rsa-2048", "", {{"kmsKeyName", kms_name}});
  object["spec"]["source"] = wrapped_source("offline-rsa", w);
  f.create(object);
  f.start();
  check_kms_holds("transit", f.wait_for("in-hsm"), hsm_key);
  f.wait_for("offline-rsa");
  f.op->terminate();

  // Every listable resource in every namespace, as the apiserver serves it.
  auto listed =
      testing::run_command(kubectl() + " get $(" + kubectl() +
                           " api-resources --verbs=list -o name | paste -sd, -) -A -o json");
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  const std::string& dump = listed.out;
  REQUIRE(dump.size() > 10000);
  CHECK(dump.find(f.ns) != std::string::npos);  // the dump does cover the test's objects
  CHECK(dump.find("offline-rsa") != std::string::npos);
  std::string log = testing::read_file(f.log_path);
  REQUIRE(log.find("imported") != std::string::npos);
  for (const std::string* material :
       std::vector<const std::string*>{&hsm_key.material.bytes, &rsa.bytes}) {
    for (const auto& form : leak_forms(*material)) {
      CHECK(dump.find(form) == std::string::npos);
      CHECK(log.find(form) == std::string::npos);
    }
  }
  // The check can fail: the wrapped bytes themselves are in the dump (base64 in the Secret).
  CHECK(dump.find(base64_encode(w.wrapped).substr(0, 40)) != std::string::npos);
}
