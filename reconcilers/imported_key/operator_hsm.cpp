#include "reconcilers/imported_key/operator_hsm.h"

#include <sys/stat.h>

#include "hsm/metered_hsm.h"
#include "hsm/pkcs11_hsm.h"

namespace byok::importedkey {

Result<std::unique_ptr<OperatorHsm>> OperatorHsm::from_environment(const std::string& config_file,
                                                                   Logger& log,
                                                                   metrics::Registry* metrics) {
  std::vector<hsm::HsmConfig> sources;
  if (!config_file.empty()) {
    auto file = hsm::load_hsm_config_yaml(config_file);
    if (!file) return file.error().context("--hsm-config " + config_file);
    sources.push_back(std::move(*file));
  }
  sources.push_back(hsm::hsm_config_from_env(hsm::process_env()));
  // The PIN comes from a file (a Secret mounted read-only): an environment variable shows in
  // /proc/<pid>/environ, crash reports and `kubectl describe`, and would override the file.
  if (!sources.back().pin_env.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "the operator reads the HSM PIN from a file only: unset " +
                          sources.back().pin_env +
                          " and set BYOK_HSM_PIN_FILE (or pinFile in --hsm-config) to a file "
                          "holding it, e.g. a Secret mounted read-only");
  hsm::HsmConfig config = hsm::merge_hsm_configs(sources);
  bool configured = !config.module.empty() || !config.token.empty();
  if (configured)
    if (auto st = hsm::validate(config); !st) return st.error().context("HSM configuration");
  if (metrics) hsm::hsm_metrics(*metrics);  // the families show before the first call
  return std::unique_ptr<OperatorHsm>(new OperatorHsm(std::move(config), configured, log, metrics));
}

Result<std::shared_ptr<hsm::Hsm>> OperatorHsm::get() {
  if (!configured_)
    return make_error(ErrorKind::FailedPrecondition,
                      "the operator has no HSM configured (BYOK_PKCS11_MODULE, BYOK_HSM_TOKEN and "
                      "a PIN source, or --hsm-config): configure one, or use "
                      "source.wrappedSecretRef");
  std::lock_guard lock(mu_);
  if (hsm_) return hsm_;
  if (pin_refused_) {
    if (pin_source_stamp() == pin_refused_stamp_) return *pin_refused_;
    pin_refused_.reset();  // a new PIN: worth one more try
  }
  const std::string stamp = pin_source_stamp();
  auto opened = hsm::Pkcs11Hsm::open(config_, hsm::process_env(), &log_);
  if (!opened) {
    Error e = opened.error();
    if (e.kind == ErrorKind::Unauthenticated) {
      e = e.context("opening HSM token " + config_.token);
      e.message += config_.pin_file.empty()
                       ? " (this PIN is not offered again until the operator restarts: HSMs "
                         "lock a token after a few wrong PINs)"
                       : " (this PIN is not offered again until " + config_.pin_file +
                             " changes: HSMs lock a token after a few wrong PINs)";
      pin_refused_ = e;
      pin_refused_stamp_ = stamp;
      log_.error("the HSM refused the PIN", {{"token", config_.token}, {"error", e.message}});
      return e;
    }
    // A module or token that is not there yet (a sidecar still starting) is worth retrying.
    if (e.kind == ErrorKind::NotFound) e.kind = ErrorKind::Unavailable;
    return e.context("opening HSM token " + config_.token);
  }
  if (metrics_)
    hsm_ = std::make_shared<hsm::MeteredHsm>(std::move(*opened), *metrics_);
  else
    hsm_ = std::shared_ptr<hsm::Hsm>(std::move(*opened));
  log_.info("HSM opened", {{"module", config_.module}, {"token", config_.token}});
  return hsm_;
}

std::string OperatorHsm::pin_source_stamp() const {
  if (config_.pin_file.empty()) return "";
  struct stat st {};
  if (::stat(config_.pin_file.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

Status OperatorHsm::check() {
  if (!configured_) return {};
  {
    // /readyz is unauthenticated and polled: answer from the last look while it is fresh, so
    // probes (or anyone who can reach the port) cannot drive the HSM.
    std::lock_guard lock(health_mu_);
    if (health_checked_ && std::chrono::steady_clock::now() - *health_checked_ < kHealthCacheFor)
      return health_;
  }
  // Opening the HSM has its own memory (a refused PIN is not offered again): not cached here,
  // so a fixed PIN shows at once.
  auto h = get();
  if (!h) return h.error();
  Status result;
  if (auto info = (*h)->info(); !info) result = info.error();
  std::lock_guard lock(health_mu_);
  health_ = result;
  health_checked_ = std::chrono::steady_clock::now();
  return result;
}

}  // namespace byok::importedkey
