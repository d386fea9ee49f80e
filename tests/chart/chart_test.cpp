// The Helm chart without a cluster: `helm lint --strict` is clean for the default values and
// every optional part, `helm template` renders the operator the way the controller expects to be
// run (flags, probes, downward-API env, HSM settings, a locked-down security context),
// values.schema.json turns a bad value away before anything is rendered, and the chart's CRDs
// are the files in crds/ (one source), in the chart folder and in the packaged chart alike.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "tests/chart/chart_support.h"

using namespace byok::testing;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `helm template` of the chart with `values` (helm flags such as --set a=b), every document by
// kind ("Deployment" -> its documents).
std::multimap<std::string, YAML::Node> render(const std::string& values = "") {
  auto r = helm("template byok " + shell_quote(chart_dir()) + " --namespace byok-system " + values);
  INFO("helm template " << values << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  std::multimap<std::string, YAML::Node> by_kind;
  for (auto& doc : yaml_documents(r.out)) by_kind.emplace(doc["kind"].as<std::string>(), doc);
  return by_kind;
}

YAML::Node only(const std::multimap<std::string, YAML::Node>& docs, const std::string& kind) {
  INFO("kind " << kind);
  REQUIRE(docs.count(kind) == 1);
  return docs.find(kind)->second;
}

YAML::Node operator_container(const std::multimap<std::string, YAML::Node>& docs) {
  auto containers = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 1);
  return containers[0];
}

std::vector<std::string> args_of(const YAML::Node& container) {
  std::vector<std::string> out;
  for (const auto& a : container["args"]) out.push_back(a.as<std::string>());
  return out;
}

// The value following `flag` in `args`, "" when the flag is absent or last.
std::string flag_value(const std::vector<std::string>& args, const std::string& flag) {
  auto it = std::find(args.begin(), args.end(), flag);
  return it == args.end() || it + 1 == args.end() ? "" : *(it + 1);
}

bool has_env(const YAML::Node& container, const std::string& name) {
  for (const auto& e : container["env"])
    if (e["name"].as<std::string>() == name) return true;
  return false;
}

YAML::Node env_var(const YAML::Node& container, const std::string& name) {
  INFO("env " << name);
  REQUIRE(has_env(container, name));
  for (const auto& e : container["env"])
    if (e["name"].as<std::string>() == name) return e;
  return {};
}

std::string app_version() {
  return YAML::LoadFile(chart_dir() + "/Chart.yaml")["appVersion"].as<std::string>();
}

}  // namespace

TEST_CASE(
    "chart: helm lint --strict is clean with the default values and with every optional "
    "part switched on",
    "[chart]") {
  const std::vector<std::string> variants = {
      "",
      "--set replicaCount=1",
      "--set leaderElection.enabled=false --set replicaCount=1",
      "--set metrics.serviceMonitor.enabled=true",
      "--set watchNamespace=team-a",
      "--set serviceAccount.create=false --set serviceAccount.name=byok",
      "--set hsm.enabled=true --set hsm.tokenLabel=byok --set hsm.pinSecret.name=hsm-pin "
      "--set hsm.moduleVolume.enabled=true --set hsm.moduleVolume.source.configMap.name=vendor",
      "--set image.digest=sha256:" + std::string(64, 'a'),
  };
  for (const auto& values : variants) {
    auto r = helm("lint --strict " + shell_quote(chart_dir()) + " " + values);
    INFO("helm lint --strict " << values << "\n" << r.all());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("1 chart(s) linted, 0 chart(s) failed") != std::string::npos);
    // No finding at all, not even an informational one.
    CHECK(r.out.find("[INFO]") == std::string::npos);
    CHECK(r.out.find("[WARNING]") == std::string::npos);
    CHECK(r.out.find("[ERROR]") == std::string::npos);
  }
}

TEST_CASE(
    "chart: helm template renders the operator with its flags, probes, downward-API env "
    "and a locked-down security context",
    "[chart]") {
  auto docs = render();
  std::set<std::string> kinds;
  for (const auto& [kind, _] : docs) kinds.insert(kind);
  CHECK(kinds == std::set<std::string>{"ClusterRole", "ClusterRoleBinding", "Deployment", "Lease",
                                       "PodDisruptionBudget", "Role", "RoleBinding", "Service",
                                       "ServiceAccount"});

  auto deployment = only(docs, "Deployment");
  CHECK(deployment["spec"]["replicas"].as<int>() == 2);
  auto pod = deployment["spec"]["template"]["spec"];
  auto c = operator_container(docs);
  // No registry host in the default image, and the tag is the chart's appVersion.
  CHECK(c["image"].as<std::string>() == "byok-operator:" + app_version());

  auto args = args_of(c);
  CHECK(flag_value(args, "--log-format") == "json");
  CHECK(flag_value(args, "--log-level") == "info");
  CHECK(std::count(args.begin(), args.end(), "--leader-elect") == 1);
  // The release's own Lease, made by the chart (helm uninstall removes it), and the Role may
  // touch that one only, and never create one.
  const std::string lease = only(docs, "Lease")["metadata"]["name"].as<std::string>();
  CHECK(flag_value(args, "--leader-election-id") == lease);
  // The operator's own default name, which releases before the chart made the Lease used too.
  CHECK(lease == "byok-operator-leader");
  auto lease_rule = only(docs, "Role")["rules"][0];
  CHECK(lease_rule["resourceNames"].size() == 1);
  CHECK(lease_rule["resourceNames"][0].as<std::string>() == lease);
  for (const auto& verb : lease_rule["verbs"]) CHECK(verb.as<std::string>() != "create");
  CHECK(flag_value(args, "--metrics-bind-address") == ":8080");
  CHECK(flag_value(args, "--health-probe-bind-address") == ":8081");
  CHECK(std::count(args.begin(), args.end(), "--namespace") == 0);  // every namespace

  CHECK(env_var(c, "POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() ==
        "metadata.name");
  CHECK(env_var(c, "POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() ==
        "metadata.namespace");
  CHECK_FALSE(has_env(c, "BYOK_PKCS11_MODULE"));  // no HSM unless asked for

  std::map<std::string, int> ports;
  for (const auto& p : c["ports"])
    ports[p["name"].as<std::string>()] = p["containerPort"].as<int>();
  CHECK(ports == std::map<std::string, int>{{"health", 8081}, {"metrics", 8080}});
  CHECK(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(c["livenessProbe"]["httpGet"]["port"].as<std::string>() == "health");
  CHECK(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(c["readinessProbe"]["httpGet"]["port"].as<std::string>() == "health");

  auto sc = c["securityContext"];
  CHECK(sc["runAsNonRoot"].as<bool>());
  CHECK(sc["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  REQUIRE(sc["capabilities"]["drop"].size() == 1);
  CHECK(sc["capabilities"]["drop"][0].as<std::string>() == "ALL");
  CHECK_FALSE(sc["capabilities"]["add"]);
  CHECK(sc["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
  auto psc = pod["securityContext"];
  CHECK(psc["runAsNonRoot"].as<bool>());
  CHECK(psc["runAsUser"].as<int>() != 0);
  CHECK(psc["seccompProfile"]["type"].as<std::string>() == "RuntimeDefault");
  CHECK(c["resources"]["limits"]["memory"]);
  CHECK(c["resources"]["requests"]["cpu"]);

  // Everything points at the one ServiceAccount, and the Service at the operator's pods.
  const std::string sa = pod["serviceAccountName"].as<std::string>();
  CHECK(only(docs, "ServiceAccount")["metadata"]["name"].as<std::string>() == sa);
  for (const char* binding : {"ClusterRoleBinding", "RoleBinding"}) {
    auto subjects = only(docs, binding)["subjects"];
    REQUIRE(subjects.size() == 1);
    CHECK(subjects[0]["kind"].as<std::string>() == "ServiceAccount");
    CHECK(subjects[0]["name"].as<std::string>() == sa);
    CHECK(subjects[0]["namespace"].as<std::string>() == "byok-system");
  }
  auto service = only(docs, "Service");
  CHECK(service["spec"]["ports"][0]["targetPort"].as<std::string>() == "metrics");
  auto pod_labels = deployment["spec"]["template"]["metadata"]["labels"];
  for (const auto& kv : service["spec"]["selector"])
    CHECK(pod_labels[kv.first.as<std::string>()].as<std::string>() == kv.second.as<std::string>());
  CHECK(only(docs, "PodDisruptionBudget")["spec"]["minAvailable"].as<int>() == 1);
}

TEST_CASE("chart: values switch the optional parts on and off", "[chart]") {
  SECTION("one replica: no PodDisruptionBudget (it would block every drain)") {
    CHECK(render("--set replicaCount=1").count("PodDisruptionBudget") == 0);
  }
  SECTION("no leader election: no --leader-elect, no Lease Role") {
    auto docs = render("--set replicaCount=1 --set leaderElection.enabled=false");
    auto args = args_of(operator_container(docs));
    CHECK(std::count(args.begin(), args.end(), "--leader-elect") == 0);
    CHECK(docs.count("Role") == 0);
    CHECK(docs.count("RoleBinding") == 0);
    CHECK(docs.count("Lease") == 0);
  }
  SECTION("a ServiceMonitor scrapes the metrics Service when asked for") {
    auto docs = render(
        "--set metrics.serviceMonitor.enabled=true --set metrics.serviceMonitor.interval=1m");
    auto endpoint = only(docs, "ServiceMonitor")["spec"]["endpoints"][0];
    CHECK(endpoint["port"].as<std::string>() == "metrics");
    CHECK(endpoint["path"].as<std::string>() == "/metrics");
    CHECK(endpoint["interval"].as<std::string>() == "1m");
  }
  SECTION("the HSM: module path, token label, the PIN from a Secret, a vendor module volume") {
    auto docs = render(
        "--set hsm.enabled=true --set hsm.tokenLabel=byok-token --set hsm.pinSecret.name=hsm-pin "
        "--set hsm.modulePath=/opt/hsm/libvendor.so --set hsm.moduleVolume.enabled=true "
        "--set hsm.moduleVolume.source.persistentVolumeClaim.claimName=vendor-module");
    auto c = operator_container(docs);
    CHECK(env_var(c, "BYOK_PKCS11_MODULE")["value"].as<std::string>() == "/opt/hsm/libvendor.so");
    CHECK(env_var(c, "BYOK_HSM_TOKEN")["value"].as<std::string>() == "byok-token");
    // The PIN is a file mounted from the Secret, never an environment variable.
    CHECK_FALSE(has_env(c, "BYOK_HSM_PIN"));
    CHECK(env_var(c, "BYOK_HSM_PIN_FILE")["value"].as<std::string>() ==
          "/var/run/byok/hsm-pin/pin");
    std::map<std::string, YAML::Node> mounts, volumes;
    for (const YAML::Node& m : c["volumeMounts"]) mounts.emplace(m["name"].as<std::string>(), m);
    for (const YAML::Node& v : only(docs, "Deployment")["spec"]["template"]["spec"]["volumes"])
      volumes.emplace(v["name"].as<std::string>(), v);
    REQUIRE(mounts.count("hsm-pin"));
    CHECK(mounts["hsm-pin"]["mountPath"].as<std::string>() == "/var/run/byok/hsm-pin");
    CHECK(mounts["hsm-pin"]["readOnly"].as<bool>());
    REQUIRE(volumes.count("hsm-pin"));
    CHECK(volumes["hsm-pin"]["secret"]["secretName"].as<std::string>() == "hsm-pin");
    CHECK(volumes["hsm-pin"]["secret"]["items"][0]["key"].as<std::string>() == "pin");
    CHECK(volumes["hsm-pin"]["secret"]["items"][0]["path"].as<std::string>() == "pin");
    CHECK(volumes["hsm-pin"]["secret"]["defaultMode"].as<int>() == 0400);
    REQUIRE(mounts.count("hsm-module"));
    CHECK(mounts["hsm-module"]["mountPath"].as<std::string>() == "/opt/hsm");
    CHECK(mounts["hsm-module"]["readOnly"].as<bool>());
    REQUIRE(volumes.count("hsm-module"));
    CHECK(volumes["hsm-module"]["persistentVolumeClaim"]["claimName"].as<std::string>() ==
          "vendor-module");
  }
  SECTION("one namespace watched, image by digest, another log format") {
    auto docs = render(
        "--set watchNamespace=team-a --set logging.format=text --set logging.level=debug "
        "--set image.repository=registry.example/byok-operator "
        "--set image.digest=sha256:" +
        std::string(64, 'b'));
    auto c = operator_container(docs);
    auto args = args_of(c);
    CHECK(flag_value(args, "--namespace") == "team-a");
    CHECK(flag_value(args, "--log-format") == "text");
    CHECK(flag_value(args, "--log-level") == "debug");
    CHECK(c["image"].as<std::string>() ==
          "registry.example/byok-operator@sha256:" + std::string(64, 'b'));
  }
  SECTION("several namespaces watched (helm needs the comma escaped)") {
    auto args =
        args_of(operator_container(render("--set-string watchNamespace=team-a\\\\,team-b")));
    CHECK(flag_value(args, "--namespace") == "team-a,team-b");
  }
}

TEST_CASE("chart: a bad value fails at template time with a message naming it", "[chart]") {
  struct Case {
    std::string values, message;
  };
  const std::vector<Case> cases = {
      {"--set replicaCount=two", "at '/replicaCount': got string, want integer"},
      {"--set replicaCount=0", "at '/replicaCount': minimum: got 0, want 1"},
      {"--set logging.format=xml", "at '/logging/format': value must be one of 'json', 'text'"},
      {"--set logging.level=verbose", "at '/logging/level': value must be one of"},
      {"--set image.pullPolicy=Sometimes", "at '/image/pullPolicy': value must be one of"},
      {"--set image.digest=latest", "at '/image/digest'"},
      {"--set metrics.port=70000", "at '/metrics/port': maximum: got 70,000, want 65,535"},
      {"--set workers=0", "at '/workers': minimum: got 0, want 1"},
      {"--set replicas=2", "at '': additional properties 'replicas' not allowed"},
      {"--set hsm.pin=1234", "at '/hsm': additional properties 'pin' not allowed"},
      {"--set hsm.enabled=true", "at '/hsm/tokenLabel': minLength: got 0, want 1"},
      {"--set hsm.enabled=true --set hsm.tokenLabel=t",
       "at '/hsm/pinSecret/name': minLength: got 0, want 1"},
      {"--set hsm.moduleVolume.enabled=true",
       "at '/hsm/moduleVolume/source': minProperties: got 0, want 1"},
      {"--set metrics.serviceMonitor.interval=often", "at '/metrics/serviceMonitor/interval'"},
      // Rules across values live in the templates, with a message of their own.
      {"--set replicaCount=3 --set leaderElection.enabled=false",
       "replicaCount > 1 needs leaderElection.enabled"},
      {"--set metrics.serviceMonitor.enabled=true --set metrics.service.enabled=false",
       "metrics.serviceMonitor.enabled needs metrics.service.enabled"},
      {"--set serviceAccount.create=false", "serviceAccount.name is required"},
  };
  for (const auto& c : cases) {
    auto r = helm("template byok " + shell_quote(chart_dir()) + " " + c.values);
    INFO(c.values << "\n" << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.out.empty());  // nothing rendered
  }
}

TEST_CASE(
    "chart: the chart's CRDs are the files in crds/, in the chart folder and in the "
    "packaged chart",
    "[chart]") {
  const fs::path top = fs::path(BYOK_SOURCE_DIR) / "crds";
  const fs::path in_chart = fs::path(chart_dir()) / "crds";
  auto files_of = [](const fs::path& dir) {
    std::map<std::string, std::string> out;  // name -> contents
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) out[e.path().filename().string()] = read_all(e.path());
    return out;
  };
  const auto expected = files_of(top);
  REQUIRE(expected.size() >= 3);
  CHECK(files_of(in_chart) == expected);

  // What helm loads from the folder (helm install <dir>) has every CRD.
  auto r = helm("template byok " + shell_quote(chart_dir()) + " --include-crds");
  REQUIRE(r.exit_code == 0);
  std::set<std::string> rendered;
  for (auto& doc : yaml_documents(r.out))
    if (doc["kind"].as<std::string>() == "CustomResourceDefinition")
      rendered.insert(doc["metadata"]["name"].as<std::string>());
  CHECK(rendered == std::set<std::string>{"clusterkmsproviders.byok.dev",
                                          "customermanagedkeys.byok.dev", "hsmkeypolicies.byok.dev",
                                          "importedkeys.byok.dev", "kmsproviders.byok.dev"});

  // helm package follows the link: the archive carries the same bytes.
  auto work = fs::temp_directory_path() / ("byok-chart-package-" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work / "x");
  auto packaged =
      helm("package " + shell_quote(chart_dir()) + " --destination " + shell_quote(work.string()));
  INFO(packaged.all());
  REQUIRE(packaged.exit_code == 0);
  auto untar = run_command("tar -xzf " + shell_quote(work.string()) + "/byok-operator-*.tgz -C " +
                           shell_quote((work / "x").string()));
  REQUIRE(untar.exit_code == 0);
  CHECK(files_of(work / "x" / "byok-operator" / "crds") == expected);
  fs::remove_all(work);
}
