// The chart's RBAC against the real apiserver, whose RBAC authorizer is on: `helm install` puts
// the chart into a fresh namespace, the operator runs with the chart's arguments as the chart's
// ServiceAccount (a token from the TokenRequest API, in a kubeconfig of its own) and every kind
// it reconciles is driven to Ready against the AWS KMS emulator (an ImportedKey wrapped by a fresh
// SoftHSM2 token, which the chart's HSM values hand the operator). Then the apiserver's audit log
// (Metadata level, service accounts only: tests/harness/control-plane.sh) is held against the
// rules bound to that ServiceAccount:
//   - a request the chart forgot to allow is a 403 in the log (and an object that never gets
//     Ready): the test fails and names it;
//   - a rule the chart grants that the operator never exercised fails the test too (every kind
//     the operator reconciles has a driver in kDrivers, so every granted verb gets used).
// So the chart's roles are exactly what the operator uses.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/base64.h"
#include "common/clock.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/resource.h"
#include "kms/aws/aws_kms_client.h"
#include "kms/http_transport.h"
#include "tests/chart/chart_support.h"
#include "tests/harness/cluster.h"
#include "tests/harness/kms_provider_env.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"
#include "tests/integration/kms/kms_test_support.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/imported_key/imported_key_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;
using byok::kube::Json;
using namespace std::chrono_literals;

namespace {

const kube::ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const kube::ResourceType kDeployments{"apps", "v1", "deployments", "Deployment", true};
const kube::ResourceType kClusterRoleBindings{"rbac.authorization.k8s.io", "v1",
                                              "clusterrolebindings", "ClusterRoleBinding", false};
const kube::ResourceType kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                       "RoleBinding", true};
const kube::ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles",
                                       "ClusterRole", false};
const kube::ResourceType kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};

// One permission: API group ("" for core), resource ("leases", "kmsproviders/status"), verb,
// the namespace a Role confines it to ("" for a ClusterRole bound cluster-wide), and the one
// object a rule's resourceNames confines it to ("" for any). A request names the object it asked
// for ("" for a list, a watch or a create).
struct Grant {
  std::string group, resource, verb, ns, name;
  bool operator<(const Grant& o) const {
    return std::tie(group, resource, verb, ns, name) <
           std::tie(o.group, o.resource, o.verb, o.ns, o.name);
  }
  std::string str() const {
    return (group.empty() ? "core" : group) + " " + resource + " " + verb +
           (ns.empty() ? "" : " (namespace " + ns + ")") + (name.empty() ? "" : " named " + name);
  }
};

bool covers(const Grant& grant, const Grant& used) {
  return grant.group == used.group && grant.resource == used.resource && grant.verb == used.verb &&
         (grant.ns.empty() || grant.ns == used.ns) &&
         (grant.name.empty() || grant.name == used.name);
}

// --- the run: the chart installed, the operator as its ServiceAccount --------------------------

struct Run {
  std::unique_ptr<kube::RestKubeClient> client = testing::connect_from_env();
  kube::KubeClient& admin = *client;  // system:masters: sets up and checks, never the operator
  std::string ns;
  std::string service_account;
  std::string username;                 // system:serviceaccount:<ns>:<name>
  std::vector<std::string> chart_args;  // the operator container's args in the chart
  std::vector<std::pair<std::string, std::string>> chart_env;  // its literal env values
  hsm::test::TestToken token{"chart-rbac"};                    // the HSM the chart's values name
  std::string kubeconfig;
  std::string log_path;
  std::unique_ptr<testing::ChildProcess> op;

  explicit Run(const std::string& prefix) {
    ns = testing::create_namespace(admin, prefix);
    log_path = "/tmp/byok-" + ns + ".log";
  }
  ~Run() {
    op.reset();  // the operator first: it reads the kubeconfig
    if (!kubeconfig.empty()) std::filesystem::remove(kubeconfig);  // it holds a token
  }
};

// helm install of the chart as it ships (default values) into the run's namespace; the release
// is named after the namespace so its cluster-scoped objects never clash with another run's.
void install_chart(Run& run) {
  auto r = testing::helm(
      "install " + run.ns + " " + testing::shell_quote(testing::chart_dir()) + " --namespace " +
      run.ns + " --kubeconfig " + testing::shell_quote(testing::kubeconfig_path()) +
      " --set hsm.enabled=true --set hsm.tokenLabel=" + run.token.label() +
      " --set hsm.pinSecret.name=hsm-pin --set hsm.modulePath=" +
      testing::shell_quote(hsm::test::TestToken::module_path()) +
      // The emulator is on 127.0.0.1: the admin allows it for KmsProviders.
      " --set " + testing::shell_quote("kmsEndpointAllow={https://127.0.0.1:*}"));
  INFO(r.all());
  REQUIRE(r.exit_code == 0);
  // The ServiceAccount and the arguments are the ones the chart's Deployment runs with.
  auto deployments = run.admin.list(kDeployments, run.ns);
  REQUIRE(deployments.ok());
  REQUIRE((*deployments)["items"].size() == 1);
  const auto& pod = (*deployments)["items"][0]["spec"]["template"]["spec"];
  run.service_account = pod.value("serviceAccountName", "");
  REQUIRE_FALSE(run.service_account.empty());
  run.username = "system:serviceaccount:" + run.ns + ":" + run.service_account;
  REQUIRE(pod["containers"].size() == 1);
  for (const auto& a : pod["containers"][0].value("args", Json::array()))
    run.chart_args.push_back(a.get<std::string>());
  for (const auto& e : pod["containers"][0].value("env", Json::array()))
    if (e.contains("value")) run.chart_env.emplace_back(e.value("name", ""), e.value("value", ""));
}

// A token for the ServiceAccount from the TokenRequest API (no Secret-based token exists: the
// test cluster has no token controller, and neither should a real one need it), written into a
// kubeconfig that has nothing else of the admin's.
std::string token_kubeconfig(Run& run, const std::string& ns, const std::string& service_account,
                             const std::string& path) {
  return testing::service_account_kubeconfig(run.admin, ns, service_account, path);
}

void write_service_account_kubeconfig(Run& run) {
  run.kubeconfig =
      token_kubeconfig(run, run.ns, run.service_account, "/tmp/byok-" + run.ns + ".kubeconfig");
}

// The operator binary as the chart's pod runs it: the Deployment's args (so a flag the binary
// does not know fails the test) and literal env values (so an HSM variable the binary does not
// read fails it too), its servers moved to free loopback ports, POD_NAME and POD_NAMESPACE as
// the downward API sets them, the PIN file where the kubelet would mount the Secret; plus the
// ServiceAccount's kubeconfig in place of the in-cluster config, and only the run's namespace
// watched.
void start_operator(Run& run) {
  std::vector<std::string> args = {"POD_NAME=" + run.ns + "-operator", "POD_NAMESPACE=" + run.ns};
  bool pin_file = false;
  for (const auto& [name, value] : run.chart_env) {
    if (name == "BYOK_HSM_PIN_FILE") {
      pin_file = true;
      args.push_back(name + "=" + run.token.pin_file());  // the mounted Secret's stand-in
    } else {
      args.push_back(name + "=" + value);
    }
  }
  REQUIRE(pin_file);
  args.push_back(BYOK_CHART_OPERATOR_BINARY);
  for (size_t i = 0; i < run.chart_args.size(); ++i) {
    args.push_back(run.chart_args[i]);
    if ((run.chart_args[i] == "--metrics-bind-address" ||
         run.chart_args[i] == "--health-probe-bind-address") &&
        i + 1 < run.chart_args.size()) {
      args.push_back("127.0.0.1:" + std::to_string(testing::free_loopback_port()));
      ++i;
    }
  }
  for (const std::string flag : {"--kubeconfig", "--namespace"})
    REQUIRE(std::find(run.chart_args.begin(), run.chart_args.end(), flag) == run.chart_args.end());
  args.insert(args.end(), {"--kubeconfig", run.kubeconfig, "--namespace", run.ns});
  run.op = std::make_unique<testing::ChildProcess>("/usr/bin/env", args, run.log_path);
}

// --- what the operator did: the apiserver's audit log ---------------------------------------

// The requests of `username` in the apiserver's audit log: what it used (allowed requests) and
// what it was refused (403s).
struct Used {
  std::set<Grant> allowed;
  std::set<Grant> forbidden;
};

Used used_by(const std::string& username) {
  const auto log = std::filesystem::path(testing::kubeconfig_path()).parent_path() / "audit.log";
  INFO("the control plane writes no audit log at "
       << log << ": restart it with tests/harness/control-plane.sh, which turns it on");
  REQUIRE(std::filesystem::exists(log));
  Used out;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto event = Json::parse(line, nullptr, false);
    if (event.is_discarded()) continue;  // the line the apiserver is writing right now
    if (event["user"].value("username", "") != username || !event.contains("objectRef")) continue;
    const auto& ref = event["objectRef"];
    std::string resource = ref.value("resource", "");
    if (ref.contains("subresource")) resource += "/" + ref.value("subresource", "");
    Grant g{ref.value("apiGroup", ""), resource, event.value("verb", ""),
            ref.value("namespace", ""), ref.value("name", "")};
    int code = event.contains("responseStatus") ? event["responseStatus"].value("code", 0) : 0;
    (code == 403 ? out.forbidden : out.allowed).insert(g);
  }
  return out;
}

std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += "\n  " + i;
  return out;
}

// --- one driver per kind the operator reconciles ------------------------------------------------
// Each creates its objects in the run's namespace with the admin client, waits until the
// operator made them Ready, and takes them through deletion where the kind has a finalizer, so
// every path the operator takes for the kind runs under the chart's RBAC.

bool ready(Run& run, const kube::ResourceType& type, const std::string& name) {
  return testing::condition_field(testing::status_of(run.admin, type, run.ns, name), "Ready",
                                  "status") == "True";
}

void expect_ready(Run& run, const kube::ResourceType& type, const std::string& name) {
  if (testing::wait_until([&] { return ready(run, type, name) || !run.op->running(); }, 60s) &&
      run.op->running())
    return;
  if (!run.op->running()) FAIL("the operator exited:\n" << testing::read_file(run.log_path));
  std::vector<std::string> forbidden;
  for (const auto& f : used_by(run.username).forbidden) forbidden.push_back(f.str());
  FAIL(type.kind << " " << name << " not Ready; status: "
                 << testing::status_of(run.admin, type, run.ns, name).dump()
                 << "\nrefused by the apiserver (the chart forgot these):" << lines(forbidden)
                 << "\noperator log: " << run.log_path);
}

// A KmsProvider for the emulator, with its credentials and CA Secrets, as a user applies them.
void drive_kms_provider(Run& run) {
  testing::apply_kms_provider(run.admin, run.ns, "aws", testing::provider_config_from_env("aws"));
  expect_ready(run, byok::kmsprovider::kms_providers(), "aws");
}

// A CustomerManagedKey on a fresh key in the emulator, through the KmsProvider above: Ready,
// its Events recorded, then deleted (the operator lifts its finalizer).
void drive_customer_managed_key(Run& run) {
  const auto aws = testing::provider_config_from_env("aws");
  RealClock clock;
  kms::aws::AwsKmsConfig config;
  config.region = aws.region;
  config.kms_endpoint = config.sts_endpoint = aws.endpoint;
  config.credentials = {aws.credentials.at("accessKeyId"), aws.credentials.at("secretAccessKey"),
                        ""};
  auto transport = kms::make_http_transport({10s, aws.extra_ca_pem});
  kms::aws::AwsKmsClient console(config, *transport, clock);
  auto key = console.create_key({});
  REQUIRE(key.ok());

  const auto type = byok::cmk::customer_managed_keys();
  Json cmk = {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", "key"}}},
      {"spec",
       {{"provider", "aws"}, {"resource", key->resource}, {"providerRef", {{"name", "aws"}}}}}};
  REQUIRE(run.admin.create(type, run.ns, cmk).ok());
  expect_ready(run, type, "key");
  CHECK(testing::wait_until(
      [&] { return testing::count_events(run.admin, run.ns, "key", "Registered") >= 1; }));

  REQUIRE(run.admin.remove(type, run.ns, "key").ok());
  INFO("CustomerManagedKey not released by the operator; operator log: " << run.log_path);
  REQUIRE(testing::wait_until([&] { return !run.admin.get(type, run.ns, "key").ok(); }, 60s));
}

// The key the ImportedKey driver imports, put on the token before the operator opens it (as a
// ceremony leaves a key on a production HSM).
void add_hsm_key(Run& run) {
  auto material = testing::make_material("aes256-gcm96");
  auto session = run.token.raw_session();
  std::vector<std::uint8_t> value(material.bytes.begin(), material.bytes.end());
  hsm::test::import_secret(*session, "rbac-aes", value);
}

// An ImportedKey wrapped by the chart's HSM and imported into the emulator through the
// KmsProvider above: Ready and imported, its Events recorded, then deleted (Retain: the operator
// lifts its finalizer and leaves the key).
void drive_imported_key(Run& run) {
  // As the cluster admin: a ClusterKmsProvider (its Secrets in the release namespace, where the
  // chart's operator looks) serving this namespace, and the policy that grants the key.
  const std::string provider = run.ns + "-aws";
  testing::apply_cluster_kms_provider(run.admin, run.ns, provider,
                                      testing::provider_config_from_env("aws"), run.ns);
  testing::apply_hsm_key_policy(run.admin, provider, run.ns, "rbac-*", provider);
  const auto type = byok::importedkey::imported_keys();
  Json ik = {{"apiVersion", "byok.dev/v1alpha1"},
             {"kind", "ImportedKey"},
             {"metadata", {{"name", "imported"}}},
             {"spec",
              {{"providerRef", {{"kind", "ClusterKmsProvider"}, {"name", provider}}},
               {"keyType", "aes256-gcm96"},
               {"source", {{"hsm", {{"label", "rbac-aes"}}}}}}}};
  REQUIRE(run.admin.create(type, run.ns, ik).ok());
  expect_ready(run, type, "imported");
  auto st = testing::status_of(run.admin, type, run.ns, "imported");
  CHECK(st.value("imported", false));
  CHECK(st.value("authorizedBy", "") == provider);
  CHECK(testing::wait_until(
      [&] { return testing::count_events(run.admin, run.ns, "imported", "Imported") >= 1; }));

  REQUIRE(run.admin.remove(type, run.ns, "imported").ok());
  INFO("ImportedKey not released by the operator; operator log: " << run.log_path);
  REQUIRE(testing::wait_until([&] { return !run.admin.get(type, run.ns, "imported").ok(); }, 60s));
}

// The kinds, in the order they depend on each other; a kind the operator learns needs its
// driver here, or its verbs show as granted and unused.
const std::vector<std::pair<std::string, void (*)(Run&)>> kDrivers = {
    {"KmsProvider", drive_kms_provider},
    {"CustomerManagedKey", drive_customer_managed_key},
    {"ImportedKey", drive_imported_key},
};

// --- what the chart grants -------------------------------------------------------------------

// Every rule of every Role and ClusterRole bound to `username`'s ServiceAccount, one Grant per
// (group, resource, verb, object name): a rule's resourceNames give one Grant per name.
// Wildcards and nonResourceURLs are not expanded: the caller refuses them.
struct Granted {
  std::set<Grant> grants;
  std::vector<std::string> problems;
};

Granted granted_to(Run& run) {
  Granted out;
  auto is_ours = [&](const Json& binding) {
    for (const auto& s : binding.value("subjects", Json::array()))
      if (s.value("kind", "") == "ServiceAccount" && s.value("name", "") == run.service_account &&
          s.value("namespace", "") == run.ns)
        return true;
    return false;
  };
  auto add_rules = [&](const Json& role, const std::string& ns, const std::string& where) {
    for (const auto& rule : role.value("rules", Json::array())) {
      if (rule.contains("nonResourceURLs"))
        out.problems.push_back(where + " grants nonResourceURLs");
      Json names = rule.value("resourceNames", Json::array({""}));
      for (const auto& g : rule.value("apiGroups", Json::array()))
        for (const auto& r : rule.value("resources", Json::array()))
          for (const auto& v : rule.value("verbs", Json::array()))
            for (const auto& n : names) {
              if (g == "*" || r == "*" || v == "*")
                out.problems.push_back(where + " grants a wildcard");
              out.grants.insert({g.get<std::string>(), r.get<std::string>(), v.get<std::string>(),
                                 ns, n.get<std::string>()});
            }
    }
  };
  auto role_of = [&](const Json& binding, const std::string& ns) {
    const auto& ref = binding["roleRef"];
    const std::string name = ref.value("name", "");
    auto role = ref.value("kind", "") == "ClusterRole" ? run.admin.get(kClusterRoles, "", name)
                                                       : run.admin.get(kRoles, ns, name);
    REQUIRE(role.ok());
    return *role;
  };
  auto cluster_bindings = kube::list_all(run.admin, kClusterRoleBindings, "");
  REQUIRE(cluster_bindings.ok());
  for (const auto& b : cluster_bindings->items)
    if (is_ours(b)) add_rules(role_of(b, ""), "", "ClusterRole " + b["roleRef"].value("name", ""));
  auto bindings = kube::list_all(run.admin, kRoleBindings, "");
  REQUIRE(bindings.ok());
  for (const auto& b : bindings->items)
    if (is_ours(b)) {
      const std::string ns = b["metadata"].value("namespace", "");
      add_rules(role_of(b, ns), ns,
                b["roleRef"].value("kind", "") + " " + b["roleRef"].value("name", ""));
    }
  return out;
}

}  // namespace

TEST_CASE(
    "chart/rbac: the operator runs as the chart's ServiceAccount with exactly the "
    "permissions the chart grants",
    "[aws][chart]") {
  Run run("chart-rbac");
  install_chart(run);
  write_service_account_kubeconfig(run);
  add_hsm_key(run);
  start_operator(run);

  for (const auto& [kind, drive] : kDrivers) {
    INFO("driving " << kind << " as " << run.username);
    drive(run);
  }

  const auto granted = granted_to(run);
  {
    INFO("rules no least-privilege role has:" << lines(granted.problems));
    CHECK(granted.problems.empty());
    REQUIRE_FALSE(granted.grants.empty());
  }

  // Granted and never used.
  auto unused_grants = [&](const Used& used) {
    std::vector<std::string> out;
    for (const auto& g : granted.grants) {
      bool exercised = false;
      for (const auto& u : used.allowed) exercised = exercised || covers(g, u);
      if (!exercised) out.push_back(g.str());
    }
    return out;
  };
  // The leader renews its Lease every couple of seconds and the informers' watches start at
  // once, but give the operator a little time to have made each kind of request.
  Used used;
  testing::wait_until(
      [&] {
        used = used_by(run.username);
        return unused_grants(used).empty();
      },
      20s, 500ms);
  run.op->terminate();
  used = used_by(run.username);  // with what a graceful stop does (releasing the Lease)

  {
    std::vector<std::string> forbidden;
    for (const auto& f : used.forbidden) forbidden.push_back(f.str());
    INFO("refused by the apiserver (the chart forgot these):" << lines(forbidden));
    CHECK(forbidden.empty());
  }
  {
    auto unused = unused_grants(used);
    INFO(
        "granted by the chart but never used by the operator (drop them from the chart, or "
        "drive the kind that needs them in kDrivers):"
        << lines(unused));
    CHECK(unused.empty());
  }
}

TEST_CASE("chart/rbac: helm install refuses a bad value before creating anything", "[chart]") {
  Run run("chart-bad-value");
  auto r = testing::helm("install " + run.ns + " " + testing::shell_quote(testing::chart_dir()) +
                         " --namespace " + run.ns + " --set replicaCount=two --kubeconfig " +
                         testing::shell_quote(testing::kubeconfig_path()));
  INFO(r.all());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("at '/replicaCount': got string, want integer") != std::string::npos);
  auto deployments = run.admin.list(kDeployments, run.ns);
  REQUIRE(deployments.ok());
  CHECK((*deployments)["items"].empty());
  auto service_accounts = run.admin.list(kServiceAccounts, run.ns);
  REQUIRE(service_accounts.ok());
  CHECK((*service_accounts)["items"].empty());
}

TEST_CASE(
    "chart/rbac: namespace editors manage the namespaced kinds but not status, finalizers "
    "or the cluster-scoped HsmKeyPolicy and ClusterKmsProvider, even bound cluster-wide",
    "[chart]") {
  Run run("chart-tenant");
  auto r = testing::helm("install " + run.ns + " " + testing::shell_quote(testing::chart_dir()) +
                         " --namespace " + run.ns + " --kubeconfig " +
                         testing::shell_quote(testing::kubeconfig_path()));
  INFO(r.all());
  REQUIRE(r.exit_code == 0);
  const std::string edit_role = run.ns + "-byok-operator-edit";
  REQUIRE(run.admin.get(kClusterRoles, "", edit_role).ok());
  // The aggregation labels that fold the role into the built-in edit, admin and view roles.
  auto edit = run.admin.get(kClusterRoles, "", edit_role);
  const auto labels = (*edit)["metadata"]["labels"];
  CHECK(labels.value("rbac.authorization.k8s.io/aggregate-to-edit", "") == "true");
  CHECK(labels.value("rbac.authorization.k8s.io/aggregate-to-admin", "") == "true");
  auto view = run.admin.get(kClusterRoles, "", run.ns + "-byok-operator-view");
  REQUIRE(view.ok());
  CHECK((*view)["metadata"]["labels"].value("rbac.authorization.k8s.io/aggregate-to-view", "") ==
        "true");

  // A tenant ServiceAccount bound to the edit role. (The test control plane has no controller
  // manager to aggregate roles, so the role is bound as it is; aggregation only adds its rules
  // to edit/admin.)
  REQUIRE(run.admin
              .create(kServiceAccounts, run.ns,
                      {{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata", {{"name", "tenant"}}}})
              .ok());
  const kube::ResourceType kRoleBindingType{"rbac.authorization.k8s.io", "v1", "rolebindings",
                                            "RoleBinding", true};
  Json subjects =
      Json::array({{{"kind", "ServiceAccount"}, {"name", "tenant"}, {"namespace", run.ns}}});
  REQUIRE(run.admin
              .create(kRoleBindingType, run.ns,
                      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                       {"kind", "RoleBinding"},
                       {"metadata", {{"name", "tenant-edit"}}},
                       {"roleRef",
                        {{"apiGroup", "rbac.authorization.k8s.io"},
                         {"kind", "ClusterRole"},
                         {"name", edit_role}}},
                       {"subjects", subjects}})
              .ok());
  const std::string path =
      token_kubeconfig(run, run.ns, "tenant", "/tmp/byok-" + run.ns + "-tenant.kubeconfig");
  auto config = kube::load_kubeconfig(path);
  REQUIRE(config.ok());
  kube::RestKubeClient tenant_client(*config);
  kube::KubeClient& tenant = tenant_client;  // the interface carries the default arguments

  auto check_tenant = [&](const std::string& scope) {
    INFO("tenant bound " << scope);
    const auto ik = byok::importedkey::imported_keys();
    const std::string name = "ik-" + scope;
    Json object = {{"apiVersion", "byok.dev/v1alpha1"},
                   {"kind", "ImportedKey"},
                   {"metadata", {{"name", name}}},
                   {"spec",
                    {{"providerRef", {{"kind", "ClusterKmsProvider"}, {"name", "shared"}}},
                     {"keyType", "aes256-gcm96"},
                     {"source", {{"hsm", {{"label", "x"}}}}}}}};
    auto created = tenant.create(ik, run.ns, object);
    INFO((created.ok() ? std::string() : created.error().message));
    CHECK(created.ok());
    CHECK(tenant.get(ik, run.ns, name).ok());
    CHECK(tenant.list(byok::kmsprovider::kms_providers(), run.ns).ok());
    CHECK(tenant.list(byok::cmk::customer_managed_keys(), run.ns).ok());
    auto denied = [](const auto& result) {
      return !result.ok() && result.error().kind == ErrorKind::PermissionDenied;
    };
    auto on_subresource = [](const char* subresource) {
      kube::PatchOptions options;
      options.subresource = subresource;
      return options;
    };
    // Status is the operator's word: a tenant cannot forge imported, authorizedBy or phase.
    CHECK(denied(tenant.patch(ik, run.ns, name, kube::PatchType::Merge,
                              {{"status", {{"imported", true}, {"authorizedBy", "forged"}}}},
                              on_subresource("status"))));
    CHECK(denied(tenant.patch(ik, run.ns, name, kube::PatchType::Merge,
                              {{"metadata", {{"finalizers", Json::array()}}}},
                              on_subresource("finalizers"))));
    // The admin's kinds.
    CHECK(denied(tenant.create(byok::hsmpolicy::hsm_key_policies(), "",
                               {{"apiVersion", "byok.dev/v1alpha1"},
                                {"kind", "HsmKeyPolicy"},
                                {"metadata", {{"name", run.ns + "-grab"}}},
                                {"spec",
                                 {{"namespaceSelector", testing::namespace_selector(run.ns)},
                                  {"keys", {{{"label", "*"}}}},
                                  {"destinations", {{{"clusterKmsProvider", "x"}}}}}}})));
    CHECK(denied(tenant.list(byok::hsmpolicy::hsm_key_policies(), "")));
    CHECK(denied(tenant.create(byok::kmsprovider::cluster_kms_providers(), "",
                               {{"apiVersion", "byok.dev/v1alpha1"},
                                {"kind", "ClusterKmsProvider"},
                                {"metadata", {{"name", run.ns + "-grab"}}},
                                {"spec",
                                 {{"type", "transit"},
                                  {"endpoint", "https://127.0.0.1:1"},
                                  {"namespaceSelector", testing::namespace_selector(run.ns)}}}})));
    CHECK(denied(tenant.get(byok::kmsprovider::cluster_kms_providers(), "", "anything")));
    // The edit role grants no Secrets and nothing outside the byok.dev kinds.
    CHECK(denied(tenant.get(kube::resources::secrets(), run.ns, "anything")));
  };
  check_tenant("in-namespace");

  // Bound cluster-wide, the role still grants nothing cluster-scoped.
  const kube::ResourceType kCrbType{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                    "ClusterRoleBinding", false};
  REQUIRE(run.admin
              .create(kCrbType, "",
                      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                       {"kind", "ClusterRoleBinding"},
                       {"metadata", {{"name", run.ns + "-tenant-edit"}}},
                       {"roleRef",
                        {{"apiGroup", "rbac.authorization.k8s.io"},
                         {"kind", "ClusterRole"},
                         {"name", edit_role}}},
                       {"subjects", subjects}})
              .ok());
  check_tenant("cluster-wide");
  std::filesystem::remove(path);
}
