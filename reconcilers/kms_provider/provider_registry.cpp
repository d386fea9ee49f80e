#include "reconcilers/kms_provider/provider_registry.h"

#include <cctype>

#include "common/base64.h"
#include "controller/kube/resource.h"
#include "controller/runtime/label_selector.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

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
Result<std::pair<kms::ProviderConfig, std::string>> config_and_fingerprint(kube::KubeClient& client,
                                                                           const KmsProvider& p,
                                                                           const std::string& ns) {
  kms::ProviderConfig config;
  config.type = p.spec.type;
  config.region = p.spec.region;
  config.endpoint = p.spec.endpoint;
  config.settings = p.spec.settings;
  std::string fingerprint = p.meta.uid + "/" + p.meta.resource_version;
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
                            p.spec.ca_secret_key +
                            " (spec.caSecretRef.key): add the PEM CA "
                            "bundle under that key or fix spec.caSecretRef.key");
    config.extra_ca_pem = it->second;
    fingerprint += "/" + secret->resource_version;
  }
  return std::make_pair(std::move(config), std::move(fingerprint));
}

}  // namespace

// The transport checks again at connect time, which also covers URLs the client derives (a
// token_uri): here a refusal comes before any Secret is used, naming the field.
Status check_tenant_config(const kms::ProviderConfig& config, const kms::EndpointPolicy& policy) {
  if (config.credentials.count("tokenFile"))
    return make_error(ErrorKind::InvalidArgument,
                      "the credentials Secret sets tokenFile, a path in the operator's pod, which "
                      "only a ClusterKmsProvider may use: use clientSecret, or ask a cluster admin "
                      "for a ClusterKmsProvider");
  // A value is taken for a URL when it is one: a scheme at its very start and no white space
  // (a service account's JSON key mentions URLs, but is not one). A refusal names the field and
  // the URL's origin, never a credential's value.
  auto url_like = [](const std::string& v) {
    auto sep = v.find("://");
    if (sep == std::string::npos || sep == 0) return false;
    for (size_t i = 0; i < sep; ++i)
      if (!std::isalpha(static_cast<unsigned char>(v[i]))) return false;
    for (char c : v)
      if (std::isspace(static_cast<unsigned char>(c))) return false;
    return true;
  };
  auto check = [&](const std::string& field, const std::string& value) -> Status {
    if (!url_like(value)) return {};
    auto url = kms::parse_url(value);
    if (!url)
      return make_error(ErrorKind::InvalidArgument, field + " is not a URL the operator can use");
    if (auto allowed = policy.check(*url); !allowed) return allowed.error().context(field);
    return {};
  };
  if (auto st = check("spec.endpoint", config.endpoint); !st) return st;
  for (const auto& [k, v] : config.settings)
    if (auto st = check("spec." + config.type + "." + k, v); !st) return st;
  for (const auto& [k, v] : config.credentials)
    if (auto st = check("credentials Secret key " + k, v); !st) return st;
  return {};
}

std::size_t ProviderRegistry::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

ProviderRegistry::ProviderRegistry(kube::KubeClient& client, Factory factory, ProviderTrust trust)
    : client_(client), factory_(std::move(factory)), trust_(std::move(trust)) {}

ProviderLookup ProviderRegistry::get(const std::string& ns, const ProviderRef& ref,
                                     runtime::ReadOnce* the_namespace) {
  ProviderLookup out;
  const bool cluster = ref.cluster();
  const std::string& name = ref.name;
  // Keyed by kind (and the fingerprint holds the UID): a tenant's KmsProvider never shares a
  // client (its CA, its connections) with a ClusterKmsProvider of the same name.
  const std::string key = ref.kind + "/" + (cluster ? std::string() : ns) + "/" + name;
  // A provider that cannot be used now (deleted, no longer serving the namespace, its Secret
  // gone) takes its cached client, and the credentials in it, out of memory.
  // (Not when a ClusterKmsProvider merely does not serve this namespace: it still serves others.)
  bool keep_cached = false;
  auto fail = [&](ProviderProblem problem, Error error) {
    if (problem != ProviderProblem::Unreachable && !keep_cached) {
      std::lock_guard<std::mutex> lock(mu_);
      entries_.erase(key);
    }
    out.problem = problem;
    out.error = std::move(error);
    return out;
  };
  // One answer for "no such ClusterKmsProvider" and "not yours": tenants cannot list them.
  const Error not_granted{
      ErrorKind::NotFound,
      "ClusterKmsProvider " + name +
          " (spec.providerRef) does not exist or "
          "does not serve namespace " +
          ns +
          ": ask a cluster admin to select "
          "this namespace in its spec.namespaceSelector, or fix spec.providerRef"};
  auto read_provider = [&]() -> Result<kube::Json> {
    if (cluster) return client_.get(cluster_kms_providers(), "", name);
    if (!provider_cache_) return client_.get(kms_providers(), ns, name);
    auto cached = provider_cache_->get(ns + "/" + name);
    if (!cached) return Error{ErrorKind::NotFound, "KmsProvider " + ns + "/" + name + " not found"};
    return std::move(*cached);
  };
  auto object = read_provider();
  if (!object) {
    if (object.error().kind == ErrorKind::NotFound)
      return fail(ProviderProblem::ProviderNotFound,
                  cluster
                      ? not_granted
                      : Error{ErrorKind::NotFound, "KmsProvider " + ns + "/" + name +
                                                       " (spec.providerRef.name) does not exist: "
                                                       "create it or fix spec.providerRef.name"});
    return fail(ProviderProblem::Unreachable, object.error().context("reading " + ref.kind));
  }
  if (cluster) {
    // Whether it serves this namespace, before anything else about it is looked at.
    auto the_ns = the_namespace && the_namespace->name() == ns
                      ? the_namespace->get()
                      : client_.get(kube::resources::namespaces(), "", ns);
    if (!the_ns)
      return fail(ProviderProblem::Unreachable, the_ns.error().context("reading Namespace " + ns));
    const auto* spec = object->contains("spec") ? &(*object)["spec"] : nullptr;
    if (!spec || !spec->is_object() || !spec->contains("namespaceSelector") ||
        !runtime::selects((*spec)["namespaceSelector"], runtime::labels_of(*the_ns))) {
      keep_cached = true;
      return fail(ProviderProblem::ProviderNotFound, not_granted);
    }
  }
  auto provider = parse_kms_provider(*object);
  if (!provider) return fail(ProviderProblem::Misconfigured, provider.error());
  out.type = provider->spec.type;
  out.cluster = cluster;
  std::string secrets_ns = ns;
  if (cluster) {
    if (trust_.cluster_namespace.empty())
      return fail(
          ProviderProblem::Misconfigured,
          Error{ErrorKind::FailedPrecondition,
                "ClusterKmsProvider " + name +
                    " cannot be used: the operator has no "
                    "--cluster-resource-namespace for its Secrets (a cluster admin sets it)"});
    secrets_ns = trust_.cluster_namespace;
    out.pinned_fingerprints = provider->spec.wrapping_key_fingerprints;
    out.allow_wrapped_imports = provider->spec.allow_wrapped_imports;
  } else {
    out.accessor = provider->status.accessor;
  }

  auto both = config_and_fingerprint(client_, *provider, secrets_ns);
  if (!both) {
    auto kind = both.error().kind;
    return fail(kind == ErrorKind::NotFound          ? ProviderProblem::SecretNotFound
                : kind == ErrorKind::InvalidArgument ? ProviderProblem::Misconfigured
                                                     : ProviderProblem::Unreachable,
                both.error());
  }
  both->first.attestation_manufacturer_roots_pem = trust_.attestation_manufacturer_roots_pem;
  both->first.attestation_owner_roots_pem = trust_.attestation_owner_roots_pem;
  if (!cluster) {
    if (auto st = check_tenant_config(both->first, trust_.tenant_endpoints); !st)
      return fail(st.error().kind == ErrorKind::PermissionDenied
                      ? ProviderProblem::EndpointNotAllowed
                      : ProviderProblem::Misconfigured,
                  st.error().context("KmsProvider " + ns + "/" + name));
    both->first.endpoint_policy = trust_.tenant_endpoints;
  }
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
    return fail(ProviderProblem::Misconfigured, handle.error().context(ref.kind + " " + name));
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
