#pragma once
// A KmsProvider that counts and times every call of the one it wraps:
//   byok_kms_requests_total{provider,operation,outcome}   outcome = "success" or the ErrorKind
//   byok_kms_request_duration_seconds{provider,operation}
// operation is the interface's method name (describe_key, import_key, ...). wrapping_algorithms()
// does no I/O and is passed through unrecorded. Answers and errors pass through unchanged.

#include <exception>
#include <memory>

#include "common/metrics.h"
#include "kms/kms_provider.h"

namespace byok::kms {

// Registers the two families (so a scrape shows them before the first call) and returns them.
struct KmsMetrics {
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& duration;
};
KmsMetrics kms_metrics(metrics::Registry& registry);

class MeteredProvider final : public KmsProvider {
 public:
  MeteredProvider(std::unique_ptr<KmsProvider> inner, metrics::Registry& registry);

  const char* provider() const override { return inner_->provider(); }
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  Result<Accessor> who_am_i() override;
  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override {
    return inner_->wrapping_algorithms(key_type);  // no I/O
  }
  Status check_target(const ImportTarget& target, SystemTime now) const override {
    return inner_->check_target(target, now);  // no I/O
  }
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

 private:
  // Also the module's last line against exceptions: a client that throws on an answer it did
  // not expect (a hostile or broken KMS) returns Internal instead of unwinding into a worker.
  template <typename Call>
  auto timed(const char* operation, Call&& call) -> decltype(call()) {
    auto contained = [&]() -> decltype(call()) {
      try {
        return call();
      } catch (const std::exception& e) {
        return make_error(ErrorKind::Internal, std::string(inner_->provider()) + " " + operation +
                                                   ": the client failed on an unexpected answer (" +
                                                   e.what() + ")");
      }
    };
    return metrics::observe_call(metrics_.requests, metrics_.duration,
                                 {inner_->provider(), operation}, contained);
  }

  std::unique_ptr<KmsProvider> inner_;
  KmsMetrics metrics_;
};

}  // namespace byok::kms
