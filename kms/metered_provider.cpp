#include "kms/metered_provider.h"

namespace byok::kms {

KmsMetrics kms_metrics(metrics::Registry& registry) {
  return {registry.counter(
              "byok_kms_requests_total",
              "Calls to a KMS by provider, operation and outcome (success or the error kind)",
              {"provider", "operation", "outcome"}),
          registry.histogram("byok_kms_request_duration_seconds",
                             "Duration of calls to a KMS, retries inside the client included",
                             {"provider", "operation"})};
}

MeteredProvider::MeteredProvider(std::unique_ptr<KmsProvider> inner, metrics::Registry& registry)
    : inner_(std::move(inner)), metrics_(kms_metrics(registry)) {}

Result<KeyDescription> MeteredProvider::describe_key(const std::string& key_id) {
  return timed("describe_key", [&] { return inner_->describe_key(key_id); });
}

Result<DeletionSchedule> MeteredProvider::schedule_key_deletion(const std::string& key_id,
                                                                int pending_window_days) {
  return timed("schedule_key_deletion",
               [&] { return inner_->schedule_key_deletion(key_id, pending_window_days); });
}

Status MeteredProvider::cancel_key_deletion(const std::string& key_id) {
  return timed("cancel_key_deletion", [&] { return inner_->cancel_key_deletion(key_id); });
}

Result<Accessor> MeteredProvider::who_am_i() {
  return timed("who_am_i", [&] { return inner_->who_am_i(); });
}

Result<std::optional<KeyDescription>> MeteredProvider::find_key(const ImportTarget& target) {
  return timed("find_key", [&] { return inner_->find_key(target); });
}

Result<WrappingKey> MeteredProvider::prepare_import(const ImportTarget& target,
                                                    const std::string& existing_key_id) {
  return timed("prepare_import", [&] { return inner_->prepare_import(target, existing_key_id); });
}

Result<ImportResult> MeteredProvider::import_key(const ImportTarget& target,
                                                 const WrappingKey& wrapping,
                                                 const std::string& wrapped, ImportKind kind) {
  return timed("import_key", [&] { return inner_->import_key(target, wrapping, wrapped, kind); });
}

}  // namespace byok::kms
