#pragma once
// Builds the client for a ProviderConfig: the class kms/provider_list.h pairs with its type.
// The handle owns the HTTP transport the client borrows.

#include <memory>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"
#include "kms/retry.h"

namespace byok::kms {

struct ProviderHandle {
  std::unique_ptr<HttpTransport> transport;  // declared first: destroyed after the client
  std::unique_ptr<KmsProvider> client;
};

// InvalidArgument naming the field to fix when the config is incomplete; Unsupported for a type
// this build has no client for. `clock` must outlive the handle. With `metrics`, the client is
// wrapped in a MeteredProvider recording into it. `request_timeout` bounds each whole request
// (HttpTransportOptions::total_timeout).
Result<ProviderHandle> make_provider(
    const ProviderConfig& config, const Clock& clock, metrics::Registry* metrics = nullptr,
    std::chrono::milliseconds request_timeout = HttpTransportOptions{}.total_timeout);

// The same client over a given transport and retry environment: what unit tests and the fuzz
// targets (tests/fuzz) use to play answers to every provider through one door.
Result<ProviderHandle> make_provider(const ProviderConfig& config,
                                     std::unique_ptr<HttpTransport> transport, const Clock& clock,
                                     RetryEnvironment env);

}  // namespace byok::kms
