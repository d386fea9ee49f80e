#include "reconcilers/kms_provider/provider_registry.h"

#include "common/base64.h"
#include "controller/kube/resource.h"

namespace byok::kmsprovider {
namespace {

struct SecretData {
  std::string resource_version;
  std::map<std::string, std::string> data;
};

Result<SecretData> read_secret(kube::KubeClient& client, const std::string& ns,
                               const std::string& name, const std::string& field) {
  auto secret = client.get(kube::resources::secrets(), ns, name);
  if (!secret) {
    if (secret.error().kind == ErrorKind::NotFound)
      return make_error(ErrorKind::NotFound, "Secret " + ns + "/" + name + " named by " + field +
                                                 " does not exist: create it or fix " + field);
    return secret.error().context("reading Secret " + ns + "/" + name);
  }
  SecretData out;
  out.resource_version = (*secret)["metadata"].value("resourceVersion", "");
  if (secret->contains("data") && (*secret)["data"].is_object()) {
    for (const auto& [k, v] : (*secret)["data"].items()) {
      auto bytes = base64_decode(v.get<std::string>());
      if (!bytes)
        return make_error(ErrorKind::InvalidArgument,
                          "Secret " + ns + "/" + name + " key " + k + " is not base64");
      out.data[k] = std::move(*bytes);
    }
  }
  return out;
}

// The config and a fingerprint of everything it is built from: a change to any of them makes a
// new client.
Result<std::pair<kms::ProviderConfig, std::string>> config_and_fingerprint(
    kube::KubeClient& client, const KmsProvider& p) {
  kms::ProviderConfig config;
  config.type = p.spec.type;
  config.region = p.spec.region;
  config.endpoint = p.spec.endpoint;
  config.settings = p.spec.settings;
  std::string fingerprint = p.meta.uid + "/" + p.meta.resource_version;
  const std::string& ns = p.meta.namespace_;
  if (!p.spec.credentials_secret.empty()) {
    auto secret = read_secret(client, ns, p.spec.credentials_secret, "spec.credentialsSecretRef");
    if (!secret) return secret.error();
    config.credentials = std::move(secret->data);
    fingerprint += "/" + secret->resource_version;
  }
  if (!p.spec.ca_secret.empty()) {
    auto secret = read_secret(client, ns, p.spec.ca_secret, "spec.caSecretRef");
    if (!secret) return secret.error();
    auto it = secret->data.find(p.spec.ca_secret_key);
    if (it == secret->data.end() || it->second.empty())
      return make_error(ErrorKind::InvalidArgument,
                        "Secret " + ns + "/" + p.spec.ca_secret + " has no key " +
                            p.spec.ca_secret_key + " (spec.caSecretRef.key): add the PEM CA "
                            "bundle under that key or fix spec.caSecretRef.key");
    config.extra_ca_pem = it->second;
    fingerprint += "/" + secret->resource_version;
  }
  return std::make_pair(std::move(config), std::move(fingerprint));
}

}  // namespace

Result<kms::ProviderConfig> load_provider_config(kube::KubeClient& client,
                                                 const KmsProvider& provider) {
  auto both = config_and_fingerprint(client, provider);
  if (!both) return both.error();
  return std::move(both->first);
}

ProviderRegistry::ProviderRegistry(kube::KubeClient& client, Factory factory)
    : client_(client), factory_(std::move(factory)) {}

ProviderLookup ProviderRegistry::get(const std::string& ns, const std::string& name) {
  ProviderLookup out;
  auto fail = [&out](ProviderProblem problem, Error error) {
    out.problem = problem;
    out.error = std::move(error);
    return out;
  };
  auto object = client_.get(kube::resources::kms_providers(), ns, name);
  if (!object) {
    if (object.error().kind == ErrorKind::NotFound)
      return fail(ProviderProblem::ProviderNotFound,
                  Error{ErrorKind::NotFound, "KmsProvider " + ns + "/" + name +
                                                 " (spec.providerRef.name) does not exist: "
                                                 "create it or fix spec.providerRef.name"});
    return fail(ProviderProblem::Unreachable, object.error().context("reading KmsProvider"));
  }
  auto provider = parse_kms_provider(*object);
  if (!provider) return fail(ProviderProblem::Misconfigured, provider.error());
  out.type = provider->spec.type;
  out.accessor = provider->status.accessor;

  auto both = config_and_fingerprint(client_, *provider);
  if (!both) {
    auto kind = both.error().kind;
    return fail(kind == ErrorKind::NotFound          ? ProviderProblem::SecretNotFound
                : kind == ErrorKind::InvalidArgument ? ProviderProblem::Misconfigured
                                                     : ProviderProblem::Unreachable,
                both.error());
  }
  const std::string key = ns + "/" + name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.fingerprint == both->second) {
      out.client = it->second.client;
      return out;
    }
  }
  auto handle = factory_(both->first);
  if (!handle)
    return fail(ProviderProblem::Misconfigured,
                handle.error().context("KmsProvider " + key));
  // The client borrows the transport: keep both alive together, hand out the client.
  auto owner = std::make_shared<kms::ProviderHandle>(std::move(*handle));
  std::shared_ptr<kms::KmsProvider> client(owner, owner->client.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[key] = Entry{both->second, out.type, client};
  }
  out.client = std::move(client);
  return out;
}

}  // namespace byok::kmsprovider
