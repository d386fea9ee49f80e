#pragma once
// An Hsm that counts and times every call of the one it wraps:
//   byok_hsm_operations_total{operation,outcome}   outcome = "success" or the ErrorKind
//   byok_hsm_operation_duration_seconds{operation}
// operation is the interface's method name (info, wrap_key, ...). Answers and errors pass
// through unchanged; thread-safe as the wrapped Hsm is.

#include <memory>

#include "common/metrics.h"
#include "hsm/hsm.h"

namespace byok::hsm {

// Registers the two families (so a scrape shows them before the first call) and returns them.
struct HsmMetrics {
  metrics::Family<metrics::Counter>& operations;
  metrics::Family<metrics::Histogram>& duration;
};
HsmMetrics hsm_metrics(metrics::Registry& registry);

class MeteredHsm final : public Hsm {
 public:
  MeteredHsm(std::unique_ptr<Hsm> inner, metrics::Registry& registry);

  Result<HsmInfo> info() override;
  Result<Capabilities> capabilities() override;
  Result<std::vector<KeyInfo>> list_keys() override;
  Result<KeyInfo> find_key(const KeyRef& ref) override;
  Result<KeyInfo> generate_key(const GenerateRequest& request) override;
  Result<std::vector<std::uint8_t>> wrap_key(const KeyRef& target, const WrapSpec& spec,
                                             std::span<const std::uint8_t> kek) override;

 private:
  template <typename Call>
  auto timed(const char* operation, Call&& call) -> decltype(call()) {
    return metrics::observe_call(metrics_.operations, metrics_.duration, {operation}, call);
  }

  std::unique_ptr<Hsm> inner_;
  HsmMetrics metrics_;
};

}  // namespace byok::hsm
