#include "hsm/metered_hsm.h"

namespace byok::hsm {

HsmMetrics hsm_metrics(metrics::Registry& registry) {
  return {registry.counter("byok_hsm_operations_total",
                           "HSM operations by operation and outcome (success or the error kind)",
                           {"operation", "outcome"}),
          registry.histogram("byok_hsm_operation_duration_seconds", "Duration of HSM operations",
                             {"operation"})};
}

MeteredHsm::MeteredHsm(std::unique_ptr<Hsm> inner, metrics::Registry& registry)
    : inner_(std::move(inner)), metrics_(hsm_metrics(registry)) {}

Result<HsmInfo> MeteredHsm::info() {
  return timed("info", [&] { return inner_->info(); });
}

Result<Capabilities> MeteredHsm::capabilities() {
  return timed("capabilities", [&] { return inner_->capabilities(); });
}

Result<std::vector<KeyInfo>> MeteredHsm::list_keys() {
  return timed("list_keys", [&] { return inner_->list_keys(); });
}

Result<KeyInfo> MeteredHsm::find_key(const KeyRef& ref) {
  return timed("find_key", [&] { return inner_->find_key(ref); });
}

Result<KeyInfo> MeteredHsm::generate_key(const GenerateRequest& request) {
  return timed("generate_key", [&] { return inner_->generate_key(request); });
}

Result<std::vector<std::uint8_t>> MeteredHsm::wrap_key(const KeyRef& target, const WrapSpec& spec,
                                                       std::span<const std::uint8_t> kek) {
  return timed("wrap_key", [&] { return inner_->wrap_key(target, spec, kek); });
}

}  // namespace byok::hsm
