#include "kms/provider_factory.h"

#include "kms/metered_provider.h"
#include "kms/provider_list.h"

namespace byok::kms {
namespace {

template <typename Client>
Result<ProviderHandle> build(const ProviderConfig& config, std::unique_ptr<HttpTransport> transport,
                             const Clock& clock, RetryEnvironment env) {
  ProviderHandle handle;
  handle.transport = std::move(transport);
  auto client = Client::from_config(config, *handle.transport, clock, std::move(env));
  if (!client) return client.error();
  handle.client = std::move(*client);
  return handle;
}

}  // namespace

Result<ProviderHandle> make_provider(const ProviderConfig& config, std::unique_ptr<HttpTransport> t,
                                     const Clock& clock, RetryEnvironment env) {
  Result<ProviderHandle> out =
      make_error(ErrorKind::InvalidArgument,
                 "spec.type " + config.type + " is not a provider type this operator knows");
  for_each_provider([&](const ProviderTraits& traits, auto client) {
    using Client = typename decltype(client)::type;
    if (traits.name == config.type) out = build<Client>(config, std::move(t), clock, env);
  });
  return out;
}

Result<ProviderHandle> make_provider(const ProviderConfig& config, const Clock& clock,
                                     metrics::Registry* metrics,
                                     std::chrono::milliseconds request_timeout) {
  HttpTransportOptions options;
  options.total_timeout = request_timeout;
  options.extra_ca_pem = config.extra_ca_pem;
  if (!config.endpoint_policy.allows_everything())
    options.url_guard = [policy = config.endpoint_policy](const UrlParts& url) {
      return policy.check(url);
    };
  auto handle =
      make_provider(config, make_http_transport(options), clock, default_retry_environment());
  if (!handle) return handle.error();
  if (metrics)
    handle->client = std::make_unique<MeteredProvider>(std::move(handle->client), *metrics);
  return handle;
}

}  // namespace byok::kms
