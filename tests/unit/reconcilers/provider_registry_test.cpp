// ProviderRegistry against an in-memory apiserver: which objects it may read for a namespace,
// and that a provider that goes away takes its cached client (and credentials) with it.

#include <catch2/catch.hpp>

#include <map>

#include "common/base64.h"
#include "kms/kms_provider.h"
#include "reconcilers/kms_provider/provider_registry.h"
#include "tests/unit/support/fake_kube_client.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;
using Json = nlohmann::json;

namespace {

// The in-memory apiserver, with objects put at resourceVersion 1 (putting one again is no change
// the registry could see).
class MemoryApi : public testing::FakeKubeClient {
 public:
  void put(const kube::ResourceType& t, const std::string& ns, const std::string& name, Json o) {
    o["metadata"]["name"] = name;
    if (!ns.empty()) o["metadata"]["namespace"] = ns;
    o["metadata"]["uid"] = "uid-" + name;
    o["metadata"]["resourceVersion"] = "1";
    FakeKubeClient::put(t, o);
  }
};

// A client that only remembers the config it was built from.
class RecordingClient : public kms::KmsProvider {
 public:
  explicit RecordingClient(kms::ProviderConfig c) : config(std::move(c)) {}
  kms::ProviderConfig config;
  const char* provider() const override { return "transit"; }
  Result<kms::KeyDescription> describe_key(const std::string&) override {
    return make_error(ErrorKind::Unsupported, "");
  }
  Result<kms::DeletionSchedule> schedule_key_deletion(const std::string&, int) override {
    return make_error(ErrorKind::Unsupported, "");
  }
  Status cancel_key_deletion(const std::string&) override { return {}; }
  Result<kms::Accessor> who_am_i() override { return make_error(ErrorKind::Unsupported, ""); }
  Result<std::vector<std::string>> wrapping_algorithms(const std::string&) override {
    return std::vector<std::string>{};
  }
  Status check_target(const kms::ImportTarget&, SystemTime) const override { return {}; }
  Result<std::optional<kms::KeyDescription>> find_key(const kms::ImportTarget&) override {
    return std::optional<kms::KeyDescription>();
  }
  Result<kms::WrappingKey> prepare_import(const kms::ImportTarget&, const std::string&) override {
    return make_error(ErrorKind::Unsupported, "");
  }
  Result<kms::ImportResult> import_key(const kms::ImportTarget&, const kms::WrappingKey&,
                                       const std::string&, kms::ImportKind) override {
    return make_error(ErrorKind::Unsupported, "");
  }
};

Json provider_object(const std::string& endpoint, const std::string& secret,
                     const Json& selector = nullptr) {
  Json spec = {
      {"type", "transit"}, {"endpoint", endpoint}, {"credentialsSecretRef", {{"name", secret}}}};
  if (!selector.is_null()) spec["namespaceSelector"] = selector;
  return {{"spec", spec}};
}

Json secret_object(const std::string& token) {
  return {{"data", {{"token", base64_encode(token)}}}};
}

Json namespace_object(const std::string& name) {
  return {{"metadata", {{"labels", {{"kubernetes.io/metadata.name", name}}}}}};
}

struct Setup {
  MemoryApi api;
  int built = 0;
  kmsprovider::ProviderRegistry registry;
  Setup()
      : registry(
            api,
            [this](const kms::ProviderConfig& c) -> Result<kms::ProviderHandle> {
              ++built;
              kms::ProviderHandle h;
              h.client = std::make_unique<RecordingClient>(c);
              return h;
            },
            kmsprovider::ProviderTrust{
                *kms::EndpointPolicy::parse({"https://vault.example.com:8200"}), "byok-system", "",
                ""}) {
    api.put(kube::resources::namespaces(), "", "team-a", namespace_object("team-a"));
    api.put(kube::resources::namespaces(), "", "team-b", namespace_object("team-b"));
  }
  // team-a's KmsProvider "vault" at `endpoint`, with its credentials Secret "mine".
  void tenant_provider(const std::string& endpoint) {
    api.put(byok::kmsprovider::kms_providers(), "team-a", "vault",
            provider_object(endpoint, "mine"));
    api.put(kube::resources::secrets(), "team-a", "mine", secret_object("tenant"));
  }
};

const kmsprovider::ProviderRef kTenant{"KmsProvider", "vault"};
const kmsprovider::ProviderRef kShared{"ClusterKmsProvider", "vault"};

}  // namespace

TEST_CASE(
    "registry: a ClusterKmsProvider serves only the namespaces it selects, with Secrets from "
    "the operator's namespace, and never lends a tenant's client",
    "[kmsprovider][tenancy]") {
  Setup s;
  Json admins = provider_object("https://anything.internal:8200", "admin-token",
                                {{"matchLabels", {{"kubernetes.io/metadata.name", "team-a"}}}});
  admins["status"] = {{"accessor", "arn:aws:iam::111122223333:role/kms-admin"}};
  s.api.put(byok::kmsprovider::cluster_kms_providers(), "", "vault", admins);
  s.api.put(kube::resources::secrets(), "byok-system", "admin-token", secret_object("admin"));
  s.tenant_provider("https://vault.example.com:8200");
  // Team B names a Secret of the same name in its own namespace: never read for the cluster one.
  s.api.put(kube::resources::secrets(), "team-b", "admin-token", secret_object("forged"));

  auto shared = s.registry.get("team-a", kShared);
  REQUIRE(shared.client);
  CHECK(shared.cluster);
  CHECK(shared.accessor.empty());  // the admin's principal never reaches a tenant's status
  CHECK(static_cast<RecordingClient&>(*shared.client).config.credentials.at("token") == "admin");
  // Not its own allow-list: the admin's endpoint is the admin's to choose.
  CHECK(static_cast<RecordingClient&>(*shared.client).config.endpoint_policy.allows_everything());

  auto tenant = s.registry.get("team-a", kTenant);
  REQUIRE(tenant.client);
  CHECK(tenant.client != shared.client);
  CHECK(static_cast<RecordingClient&>(*tenant.client).config.credentials.at("token") == "tenant");
  CHECK_FALSE(
      static_cast<RecordingClient&>(*tenant.client).config.endpoint_policy.allows_everything());

  // Team B: the same answer as for a provider that does not exist.
  auto refused = s.registry.get("team-b", kShared);
  auto missing = s.registry.get("team-b", {"ClusterKmsProvider", "nope"});
  REQUIRE_FALSE(refused.client);
  CHECK(refused.problem == kmsprovider::ProviderProblem::ProviderNotFound);
  CHECK(refused.error.message.find("does not exist or does not serve namespace team-b") !=
        std::string::npos);
  CHECK(missing.problem == refused.problem);
}

TEST_CASE(
    "registry: a provider deleted, or whose Secret is deleted, leaves no client or "
    "credentials cached",
    "[kmsprovider][tenancy]") {
  Setup s;
  s.tenant_provider("https://vault.example.com:8200");
  std::weak_ptr<kms::KmsProvider> held;
  {
    auto first = s.registry.get("team-a", kTenant);
    REQUIRE(first.client);
    held = first.client;
    CHECK(s.registry.get("team-a", kTenant).client == first.client);  // reused while unchanged
    CHECK(s.built == 1);
  }
  CHECK_FALSE(held.expired());  // the registry holds it
  REQUIRE(s.api.remove(kube::resources::secrets(), "team-a", "mine", ""));
  CHECK_FALSE(s.registry.get("team-a", kTenant).client);
  CHECK(s.registry.cached() == 0);
  CHECK(held.expired());

  s.api.put(kube::resources::secrets(), "team-a", "mine", secret_object("tenant"));
  REQUIRE(s.registry.get("team-a", kTenant).client);
  CHECK(s.registry.cached() == 1);
  REQUIRE(s.api.remove(kmsprovider::kms_providers(), "team-a", "vault", ""));
  CHECK_FALSE(s.registry.get("team-a", kTenant).client);
  CHECK(s.registry.cached() == 0);
}

TEST_CASE(
    "registry: a tenant's endpoint outside the allow-list is refused before a client is "
    "built",
    "[kmsprovider][tenancy]") {
  Setup s;
  s.tenant_provider("https://attacker.example.com:8200");
  auto r = s.registry.get("team-a", kTenant);
  REQUIRE_FALSE(r.client);
  CHECK(r.problem == kmsprovider::ProviderProblem::EndpointNotAllowed);
  CHECK(s.built == 0);
}

TEST_CASE(
    "registry: a tenant's AWS STS endpoint outside the allow-list is refused like its KMS "
    "endpoint, naming the field",
    "[kmsprovider][tenancy]") {
  Setup s;
  Json provider = provider_object("https://vault.example.com:8200", "mine");
  provider["spec"]["type"] = "aws";
  provider["spec"]["region"] = "eu-west-1";
  provider["spec"]["aws"] = {{"stsEndpoint", "https://attacker.example.com:443"}};
  s.api.put(byok::kmsprovider::kms_providers(), "team-a", "vault", provider);
  s.api.put(kube::resources::secrets(), "team-a", "mine", secret_object("tenant"));
  auto r = s.registry.get("team-a", kTenant);
  REQUIRE_FALSE(r.client);
  CHECK(r.problem == kmsprovider::ProviderProblem::EndpointNotAllowed);
  CHECK(r.error.message.find("spec.aws.stsEndpoint") != std::string::npos);
  CHECK(s.built == 0);
}
