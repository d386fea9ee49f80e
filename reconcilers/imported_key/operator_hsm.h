#pragma once
// The operator's one HSM session pool, opened on first use and kept: where the HSM is comes
// from the environment (BYOK_PKCS11_MODULE, BYOK_HSM_TOKEN, BYOK_HSM_PIN_FILE, see
// hsm/config.h; a PIN in BYOK_HSM_PIN is refused: files only), overridden field by field by an
// optional YAML file (--hsm-config). Without a module and token the operator runs without an HSM:
// ImportedKeys with source.hsm then report HsmNotConfigured, and wrappedSecretRef imports work as
// usual.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "hsm/config.h"
#include "reconcilers/imported_key/ik_reconciler.h"

namespace byok::importedkey {

class OperatorHsm {
 public:
  // InvalidArgument when the file cannot be read or names an incomplete configuration. The
  // opened HSM records its calls into `metrics` (byok_hsm_operations_total, ...) when given.
  static Result<std::unique_ptr<OperatorHsm>> from_environment(
      const std::string& config_file, Logger& log, metrics::Registry* metrics = nullptr);

  bool configured() const { return configured_; }
  // FailedPrecondition when not configured; the open error otherwise, tried again next call,
  // except a PIN the token refused (Unauthenticated): HSMs lock or wipe a token after a few
  // wrong PINs, so that PIN is never offered again. The refusal is returned until the PIN file
  // changes (a Secret volume's update), or until a restart for a PIN from the environment.
  Result<std::shared_ptr<hsm::Hsm>> get();
  // For /readyz: the token answers (C_GetTokenInfo) when an HSM is configured. Never logs in
  // with a refused PIN (it goes through get()). Asks the open HSM at most once per
  // kHealthCacheFor; in between it repeats the last answer.
  Status check();
  static constexpr std::chrono::seconds kHealthCacheFor{10};
  HsmAccess access() {
    return [this] { return get(); };
  }

 private:
  OperatorHsm(hsm::HsmConfig config, bool configured, Logger& log, metrics::Registry* metrics)
      : config_(std::move(config)), configured_(configured), log_(log), metrics_(metrics) {}

  hsm::HsmConfig config_;
  bool configured_;
  Logger& log_;
  metrics::Registry* metrics_;
  // What identifies the PIN source's content without reading it: the PIN file's inode, size
  // and modification time; empty for a PIN from the environment.
  std::string pin_source_stamp() const;

  std::mutex mu_;
  std::shared_ptr<hsm::Hsm> hsm_;
  std::optional<Error> pin_refused_;  // the token refused the PIN whose source had this stamp:
  std::string pin_refused_stamp_;

  std::mutex health_mu_;
  Status health_;
  std::optional<std::chrono::steady_clock::time_point> health_checked_;
};

}  // namespace byok::importedkey
