// Tenancy and trust, tried as a hostile tenant would: the tenant acts through a ServiceAccount
// with a namespace editor's rights (never as admin), against the real apiserver, SoftHSM2, the
// real Vault and attacker servers on 127.0.0.1 that log every byte they receive. The cluster
// admin (the test's admin client) owns the HsmKeyPolicies and ClusterKmsProviders.

#include <filesystem>

#include "controller/kube/cluster_config.h"
#include "tests/chart/chart_support.h"
#include "tests/integration/reconcilers/attacker.h"
#include "tests/integration/reconcilers/ik_test_support.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;
using namespace byok::iktest;

namespace {

Json cluster_ref(const std::string& name) {
  return {{"kind", "ClusterKmsProvider"}, {"name", name}};
}

}  // namespace

TEST_CASE(
    "tenancy: a hostile tenant cannot make the operator export another team's HSM key, reach "
    "its own servers, read local files or forge what allowed an export",
    "[transit][tenancy]") {
  IkFixture f("tenancy");
  const auto vault = testing::provider_config_from_env("transit");
  auto vault_url = kms::parse_url(vault.endpoint);
  REQUIRE(vault_url.ok());

  // --- the cluster admin's side ---------------------------------------------------------------
  const auto& mine = f.add_key("team-a-db", "aes256-gcm96");
  f.add_key("team-b-db", "aes256-gcm96");
  const std::string other_ns = testing::create_namespace(f.c, "tenancy-b");
  const std::string honest = f.ns + "-vault", for_b = f.ns + "-vault-b";
  testing::apply_cluster_kms_provider(f.c, f.ns, honest, vault, f.ns);
  testing::apply_hsm_key_policy(f.c, honest, f.ns, "team-a-*", honest);
  testing::apply_cluster_kms_provider(f.c, f.ns, for_b, vault, other_ns);
  testing::apply_hsm_key_policy(f.c, for_b, other_ns, "team-b-*", for_b);
  // Two admin-configured destinations that turn out hostile: one serves a wrapping key with
  // e = 3, the other a sound key that is not the one the admin pinned.
  Attacker weak(f.ns, "weak", true, "3"), unpinned(f.ns, "unpinned", true);
  auto evil_config = [&](const Attacker& a) {
    kms::ProviderConfig c = vault;
    c.endpoint = "https" + a.url();
    c.extra_ca_pem = testing::read_file(a.cert);
    return c;
  };
  const std::string weak_dest = f.ns + "-weak", pinned_dest = f.ns + "-pinned";
  testing::apply_cluster_kms_provider(f.c, f.ns, weak_dest, evil_config(weak), f.ns);
  testing::apply_hsm_key_policy(f.c, weak_dest, f.ns, "team-a-*", weak_dest);
  testing::apply_cluster_kms_provider(f.c, f.ns, pinned_dest, evil_config(unpinned), f.ns,
                                      {std::string(64, 'a')});
  testing::apply_hsm_key_policy(f.c, pinned_dest, f.ns, "team-a-*", pinned_dest);
  // The operator may reach the real Vault for namespaced KmsProviders, nothing else.
  f.start({"--kms-endpoint-allow", "https://127.0.0.1:" + vault_url->port});

  // --- the tenant: a ServiceAccount with a namespace editor's rights ----------------------------
  const kube::ResourceType roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const kube::ResourceType bindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                    "RoleBinding", true};
  const kube::ResourceType service_accounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
  // What charts/byok-operator/templates/clusterrole-tenants.yaml grants editors, plus Secrets
  // (Kubernetes' edit role has them).
  REQUIRE(
      f.c.create(roles, f.ns,
                 {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "Role"},
                  {"metadata", {{"name", "tenant"}}},
                  {"rules",
                   {{{"apiGroups", {"byok.dev"}},
                     {"resources", {"customermanagedkeys", "importedkeys", "kmsproviders"}},
                     {"verbs", {"get", "list", "watch", "create", "update", "patch", "delete"}}},
                    {{"apiGroups", {""}},
                     {"resources", {"secrets"}},
                     {"verbs", {"get", "list", "create", "update", "patch", "delete"}}}}}})
          .ok());
  REQUIRE(
      f.c.create(
             service_accounts, f.ns,
             {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "tenant"}}}})
          .ok());
  REQUIRE(
      f.c.create(
             bindings, f.ns,
             {{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "RoleBinding"},
              {"metadata", {{"name", "tenant"}}},
              {"roleRef",
               {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "tenant"}}},
              {"subjects",
               {{{"kind", "ServiceAccount"}, {"name", "tenant"}, {"namespace", f.ns}}}}})
          .ok());
  auto tenant_config = kube::load_kubeconfig(testing::service_account_kubeconfig(
      f.c, f.ns, "tenant", "/tmp/byok-" + f.ns + "-tenant.kubeconfig"));
  REQUIRE(tenant_config.ok());
  kube::RestKubeClient tenant_client(*tenant_config);
  kube::KubeClient& tenant = tenant_client;  // the interface carries the default arguments
  auto tenant_create = [&](const kube::ResourceType& type, const Json& object) {
    auto r = tenant.create(type, f.ns, object);
    INFO("tenant creating " << object.dump());
    REQUIRE(r.ok());
  };
  const std::string pin = testing::read_file(f.token.pin_file());
  REQUIRE_FALSE(pin.empty());

  // Its own servers: HTTPS with its own CA, and plain HTTP.
  Attacker theirs(f.ns, "tenant-https", true), plain(f.ns, "tenant-http", false);
  tenant_create(kube::resources::secrets(),
                secret("evil-ca", {{"ca.crt", testing::read_file(theirs.cert)}}));
  tenant_create(kube::resources::secrets(),
                secret("evil-token", {{"token", "stolen-looking-token"}}));
  tenant_create(byok::kmsprovider::kms_providers(),
                kms_provider("evil", {{"type", "transit"},
                                      {"endpoint", "https" + theirs.url()},
                                      {"caSecretRef", {{"name", "evil-ca"}}},
                                      {"credentialsSecretRef", {{"name", "evil-token"}}}}));
  tenant_create(byok::kmsprovider::kms_providers(),
                kms_provider("evil-http", {{"type", "transit"},
                                           {"endpoint", "http" + plain.url()},
                                           {"credentialsSecretRef", {{"name", "evil-token"}}}}));
  // An Azure Secret that names the operator's PIN file and a token host of the tenant's.
  tenant_create(kube::resources::secrets(),
                secret("evil-azure", {{"tenantId", "t"},
                                      {"clientId", "c"},
                                      {"tokenFile", f.token.pin_file()},
                                      {"authorityHost", "https" + theirs.url()}}));
  tenant_create(
      byok::kmsprovider::kms_providers(),
      kms_provider("evil-azure", {{"type", "azure"},
                                  {"azure", {{"vaultUrl", "https://team-b.vault.azure.net"}}},
                                  {"credentialsSecretRef", {{"name", "evil-azure"}}}}));

  const auto kmsp = byok::kmsprovider::kms_providers();
  auto provider_reason = [&](const std::string& name, const std::string& reason) {
    Json st;
    bool ok = testing::wait_until(
        [&] {
          st = testing::status_of(f.c, kmsp, f.ns, name);
          return testing::condition_field(st, "Ready") == reason;
        },
        60s);
    INFO("KmsProvider " << name << " status " << st.dump());
    CHECK(ok);
    return testing::condition_field(st, "Ready", "message");
  };
  CHECK_THAT(provider_reason("evil", "EndpointNotAllowed"),
             Catch::Contains("--kms-endpoint-allow"));
  CHECK_THAT(provider_reason("evil-http", "EndpointNotAllowed"),
             Catch::Contains("http://127.0.0.1"));
  CHECK_THAT(provider_reason("evil-azure", "ProviderMisconfigured"), Catch::Contains("tokenFile"));

  // A key from the HSM sent to the tenant's own provider: refused at admission.
  auto direct =
      tenant.create(kIk, f.ns, imported_key("direct", "evil", "aes256-gcm96", "team-b-db"));
  REQUIRE_FALSE(direct.ok());
  CHECK_THAT(direct.error().message, Catch::Contains("ClusterKmsProvider"));

  // Another team's key, into the other team's provider and into our own: NotAuthorized, and the
  // same words as for a key that does not exist (only the label differs).
  auto ik = [&](const std::string& name, const std::string& dest, const std::string& label) {
    Json o = imported_key(name, "x", "aes256-gcm96", label);
    o["spec"]["providerRef"] = cluster_ref(dest);
    tenant_create(kIk, o);
  };
  // Material wrapped offline, into the admin's KMS that did not opt in: refused before any call.
  {
    Json o = imported_key("offline", "x", "aes256-gcm96", "");
    o["spec"]["providerRef"] = cluster_ref(honest);
    o["spec"]["source"] = {
        {"wrappedSecretRef",
         {{"name", "evil-token"}, {"wrappingKeyFingerprint", std::string(64, 'a')}}}};
    tenant_create(kIk, o);
  }
  ik("steal-via-b", for_b, "team-b-db");
  ik("steal", honest, "team-b-db");
  ik("probe", honest, "team-z-nothing");
  ik("mine", honest, "team-a-db");
  ik("weak", weak_dest, "team-a-db");
  ik("pinned", pinned_dest, "team-a-db");
  f.wait_for("steal-via-b", "NotAuthorized");
  CHECK_THAT(testing::condition_field(f.wait_for("offline", "NotAuthorized"), "Ready", "message"),
             Catch::Contains("allowWrappedImports"));
  auto steal = f.wait_for("steal", "NotAuthorized");
  auto probe = f.wait_for("probe", "NotAuthorized");
  std::string steal_msg = testing::condition_field(steal, "Ready", "message");
  std::string probe_msg = testing::condition_field(probe, "Ready", "message");
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    return s.replace(s.find(from), from.size(), to);
  };
  CHECK(replace(steal_msg, "team-b-db", "LABEL") == replace(probe_msg, "team-z-nothing", "LABEL"));
  CHECK_FALSE(steal.contains("authorizedBy"));

  // The honest path: granted, imported, attributed.
  auto st = f.wait_for("mine");
  CHECK(st.value("authorizedBy", "") == honest);
  check_kms_holds("transit", st, mine);

  // Hostile wrapping keys behind admin-configured providers: nothing is wrapped for them.
  CHECK_THAT(
      testing::condition_field(f.wait_for("weak", "WrappingKeyNotTrusted"), "Ready", "message"),
      Catch::Contains("65537"));
  CHECK_THAT(
      testing::condition_field(f.wait_for("pinned", "WrappingKeyNotTrusted"), "Ready", "message"),
      Catch::Contains("wrappingKeyFingerprints"));

  // The tenant cannot forge the status the operator writes.
  auto forged =
      tenant.patch(kIk, f.ns, "steal", kube::PatchType::Merge,
                   {{"status", {{"imported", true}, {"authorizedBy", honest}}}}, {"status"});
  REQUIRE_FALSE(forged.ok());
  CHECK(forged.error().kind == ErrorKind::PermissionDenied);

  // A revoked grant stops the next export at once.
  REQUIRE(f.c.remove(byok::hsmpolicy::hsm_key_policies(), "", honest).ok());
  ik("after-revoke", honest, "team-a-db");
  f.wait_for("after-revoke", "NotAuthorized");

  // The audit trail: refusals, and an intent and a success for the export that happened.
  f.op->terminate();
  const std::string log = testing::read_file(f.log_path);
  int refused = 0, intents = 0, outcomes = 0, succeeded = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("log", "") != "audit") continue;
    if (j.value("stage", "") == "refused" && j.value("requester", "") == f.ns + "/steal") ++refused;
    if (j.value("stage", "") == "intent" && j.value("requester", "") == f.ns + "/mine") {
      ++intents;
      CHECK(j.value("policy", "") == honest);
      CHECK(j.value("hsmKey", "") == "label \"team-a-db\"");
      CHECK(j.value("wrappingKeyFingerprint", "").size() == 64);
      CHECK_FALSE(j.value("requesterUID", "").empty());
    }
    if (j.value("stage", "") == "outcome" && j.value("requester", "") == f.ns + "/mine") {
      ++outcomes;
      if (j.value("outcome", "") == "succeeded") ++succeeded;
    }
  }
  CHECK(refused >= 1);
  // SoftHSM2 refuses the first OAEP-SHA-256 wrap and the operator tries SHA-1: every intent
  // has its outcome, and one of them succeeded.
  CHECK(intents >= 1);
  CHECK(outcomes == intents);
  CHECK(succeeded == 1);
  CHECK(testing::count_events(f.c, f.ns, "steal", "ExportRefused") >= 1);
  CHECK(testing::count_events(f.c, f.ns, "mine", "ExportCompleted") == 1);
  // The admin's copy, regarding the ClusterKmsProvider, in the operator's namespace (here the
  // test's namespace, its --cluster-resource-namespace).
  CHECK(testing::count_events(f.c, f.ns, honest, "ExportCompleted") == 1);

  // What the attackers received: the tenant's servers nothing at all; the hostile endpoints the
  // admin configured only reads, never an import, and nowhere the PIN or the key material.
  CHECK(theirs.requests().empty());
  CHECK(plain.requests().empty());
  for (const Attacker* a : {&weak, &unpinned}) {
    auto requests = a->requests();
    CHECK_FALSE(requests.empty());  // the check can fail: the operator did talk to it
    for (const auto& r : requests) {
      INFO(r.dump());
      CHECK(r.value("method", "") == "GET");
      auto body = base64_decode(r.value("body", ""));
      const std::string raw = r.dump() + (body ? *body : std::string());
      CHECK(raw.find(pin.substr(0, pin.find('\n'))) == std::string::npos);
      CHECK(raw.find(base64_encode(mine.material.bytes)) == std::string::npos);
    }
  }
  std::filesystem::remove("/tmp/byok-" + f.ns + "-tenant.kubeconfig");
}

TEST_CASE(
    "tenancy: a policy that names the destination's account is checked against the KMS's own "
    "answer before anything is created there",
    "[aws][tenancy]") {
  IkFixture f("tenancy-account");
  const auto aws = testing::provider_config_from_env("aws");
  auto handle = kms_client("aws");
  auto who = handle.client->who_am_i();
  REQUIRE(who.ok());
  REQUIRE_FALSE(who->account.empty());
  const auto& right = f.add_key("right-db", "aes256-gcm96");
  f.add_key("wrong-db", "aes256-gcm96");
  const std::string dest = f.ns + "-aws";
  testing::apply_cluster_kms_provider(f.c, f.ns, dest, aws, f.ns);
  // The admin meant another account for labels wrong-*, this one for right-*.
  testing::apply_hsm_key_policy(f.c, f.ns + "-wrong", f.ns, "wrong-*", dest, "999999999999");
  testing::apply_hsm_key_policy(f.c, f.ns + "-right", f.ns, "right-*", dest, who->account);
  for (const char* name : {"right-db", "wrong-db"}) {
    Json o = imported_key(name, "x", "aes256-gcm96", name);
    o["spec"]["providerRef"] = {{"kind", "ClusterKmsProvider"}, {"name", dest}};
    f.create(o);
  }
  f.start();
  auto st = f.wait_for("right-db");
  CHECK(st.value("authorizedBy", "") == f.ns + "-right");
  check_kms_holds("aws", st, right);
  auto refused = f.wait_for("wrong-db", "NotAuthorized");
  const std::string message = testing::condition_field(refused, "Ready", "message");
  CHECK_THAT(message, Catch::Contains("another account"));
  CHECK(message.find(who->account) == std::string::npos);  // the admin's account stays in the log
  CHECK(refused.value("phase", "") == "");                 // nothing was created in the KMS
  CHECK_FALSE(refused.contains("keyId"));
  f.op->terminate();
  CHECK(testing::read_file(f.log_path).find("destination account mismatch") != std::string::npos);
}

TEST_CASE(
    "tenancy: a policy that requires attestation wraps only for an ImportJob key the HSM "
    "attests under the operator's roots",
    "[gcp][tenancy]") {
  const auto gcp = testing::provider_config_from_env("gcp");
  auto env = testing::ServerEnv::for_provider("gcp");
  const std::string maker = env["BYOK_GCP_ATTESTATION_MANUFACTURER_ROOTS"],
                    owner = env["BYOK_GCP_ATTESTATION_OWNER_ROOTS"];
  auto run = [&](const std::string& prefix, const std::vector<std::string>& flags,
                 const std::string& reason) {
    IkFixture f(prefix);
    const auto& known = f.add_key("attested-db", "aes256-gcm96");
    const std::string dest = f.ns + "-gcp";
    testing::apply_cluster_kms_provider(f.c, f.ns, dest, gcp, f.ns);
    auto policy = f.c.create(
        byok::hsmpolicy::hsm_key_policies(), "",
        {{"apiVersion", "byok.dev/v1alpha1"},
         {"kind", "HsmKeyPolicy"},
         {"metadata", {{"name", dest}}},
         {"spec",
          {{"namespaceSelector", testing::namespace_selector(f.ns)},
           {"keys", {{{"label", "attested-*"}}}},
           {"destinations", {{{"clusterKmsProvider", dest}, {"requireAttestation", true}}}}}}});
    REQUIRE(policy.ok());
    Json o = imported_key("attested-db", "x", "aes256-gcm96", "attested-db");
    o["spec"]["providerRef"] = {{"kind", "ClusterKmsProvider"}, {"name", dest}};
    f.create(o);
    f.start(flags);
    auto st = f.wait_for("attested-db", reason);
    if (reason.empty()) check_kms_holds("gcp", st, known);
    return testing::condition_field(st, "Ready", "message");
  };
  // Without roots the attestation cannot be checked; with roots of another authority, or the
  // two authorities swapped, it fails.
  CHECK_THAT(run("attest-none", {}, "WrappingKeyNotTrusted"),
             Catch::Contains("--gcp-attestation-manufacturer-roots"));
  const std::string other = "/tmp/byok-attest-other-roots.pem";
  REQUIRE(
      testing::run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-root "
                           "-keyout /dev/null -out " +
                           other + " 2>&1")
          .exit_code == 0);
  CHECK_THAT(
      run("attest-other",
          {"--gcp-attestation-manufacturer-roots", other, "--gcp-attestation-owner-roots", owner},
          "WrappingKeyNotTrusted"),
      Catch::Contains("chain to a configured manufacturer root"));
  CHECK_THAT(
      run("attest-swapped",
          {"--gcp-attestation-manufacturer-roots", owner, "--gcp-attestation-owner-roots", maker},
          "WrappingKeyNotTrusted"),
      Catch::Contains("configured manufacturer root"));
  // With the roots the fake's HSM chains to: imported.
  run("attest-ok",
      {"--gcp-attestation-manufacturer-roots", maker, "--gcp-attestation-owner-roots", owner}, "");
}
