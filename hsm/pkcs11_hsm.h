#pragma once
// The Hsm interface over a real PKCS#11 token.
//
// Guarantees (beyond hsm.h's):
//  - Every operation runs on a pooled, logged-in session (session_pool.h) and survives one loss
//    of the session or token (it reopens, logs in again and retries once).
//  - wrap_key() imports the KEK as a session object (CKA_TOKEN=false) and destroys it, and any
//    ephemeral AES key, before returning, whatever the outcome (RAII); a key made with
//    CKA_WRAP_WITH_TRUSTED wraps under the token's trusted copy of the KEK instead, when a
//    security officer installed one (byokctl trust-kek).
//  - wrap_key() remembers where it found a key (its object handle) and the last few parsed KEKs:
//    on file-backed tokens a lookup costs several times the wrap itself. A remembered handle is
//    trusted for key_cache_ttl, then checked (one attribute read: still a key with that label or
//    id?) before it is used again; it is forgotten when the pool reconnects or the module says
//    the handle is invalid (then the wrap is retried once after a fresh lookup). Set
//    key_cache_ttl to 0 to check on every wrap.
//  - RSA-AES wrap uses the module's CKM_RSA_AES_KEY_WRAP when C_GetMechanismList offers it, and
//    otherwise composes it: ephemeral AES-256 session key, C_WrapKey of the target with RFC 5649
//    (CKM_AES_KEY_WRAP_KWP, else SoftHSM2's CKM_AES_KEY_WRAP_PAD), C_WrapKey(CKM_RSA_PKCS_OAEP)
//    of the ephemeral key. Both give the same layout.
// Known module limits (SoftHSM2 2.6.1, see tests/hsm): OAEP with SHA-1 only (SHA-256 ->
// Unsupported); no CKM_RSA_AES_KEY_WRAP; private keys are zero-padded to a multiple of 8 bytes
// before the AES wrap, so the unwrapped PKCS#8 may carry trailing zeros after the DER (a DER
// reader that goes by the length is unaffected); Ed25519 private keys cannot be wrapped; no
// ChaCha20 key generation.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "hsm/config.h"
#include "hsm/hsm.h"
#include "hsm/kek.h"
#include "hsm/session_pool.h"

namespace byok::hsm {

class Pkcs11Hsm final : public Hsm {
 public:
  struct Options {
    SessionPool::Options pool;
    std::chrono::milliseconds key_cache_ttl{1000};
    const Clock* clock = nullptr;  // a RealClock when null
  };

  // Opens the token (by label) on an already loaded module and logs in.
  static Result<std::unique_ptr<Pkcs11Hsm>> open(std::shared_ptr<Module> module,
                                                 const std::string& token_label, SecureBuffer pin,
                                                 Options options, Logger* log = nullptr);
  // Loads config.module, reads the PIN from config's source, opens config.token.
  static Result<std::unique_ptr<Pkcs11Hsm>> open(const HsmConfig& config, const EnvLookup& env,
                                                 Logger* log = nullptr);

  Result<HsmInfo> info() override;
  Result<Capabilities> capabilities() override;
  Result<std::vector<KeyInfo>> list_keys() override;
  Result<KeyInfo> find_key(const KeyRef& ref) override;
  Result<KeyInfo> generate_key(const GenerateRequest& request) override;
  Result<std::vector<std::uint8_t>> wrap_key(const KeyRef& target, const WrapSpec& spec,
                                             std::span<const std::uint8_t> kek) override;

  SessionPool& pool() { return *pool_; }
  const std::shared_ptr<Module>& module() const { return module_; }
  bool has_mechanism(CK_MECHANISM_TYPE m) const;
  // The token's RFC 5649 AES key wrap (see CKM_AES_KEY_WRAP_KWP in pkcs11_types.h), if any.
  std::optional<CK_MECHANISM_TYPE> kwp_mechanism() const;

 private:
  Pkcs11Hsm(std::shared_ptr<Module> module, std::unique_ptr<SessionPool> pool,
            std::vector<CK_MECHANISM_TYPE> mechanisms, Options options, Logger* log)
      : module_(std::move(module)),
        pool_(std::move(pool)),
        mechanisms_(std::move(mechanisms)),
        options_(options),
        log_(log) {
    if (options_.clock == nullptr) {
      own_clock_ = std::make_unique<RealClock>();
      options_.clock = own_clock_.get();
    }
  }

  struct CachedKey {
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    KeyInfo info;
    std::uint64_t epoch = 0;
    SteadyTime checked;
  };
  using CacheKey = std::pair<int, std::string>;  // (KeyRef::By, value)

  // Finds the key, through the handle cache; *from_cache says whether the cache answered.
  Result<CachedKey> lookup(Session& s, const KeyRef& ref, const std::string& token,
                           bool* from_cache);
  void forget(const KeyRef& ref);
  Result<Kek> cached_kek(std::span<const std::uint8_t> input);

  std::shared_ptr<Module> module_;
  std::unique_ptr<SessionPool> pool_;
  std::vector<CK_MECHANISM_TYPE> mechanisms_;
  Options options_;
  std::unique_ptr<RealClock> own_clock_;
  Logger* log_;
  std::atomic<int> oaep_sha256_{-1};  // -1 unknown, 0 refused, 1 accepted

  std::mutex cache_mu_;
  std::map<CacheKey, CachedKey> keys_;
  std::vector<std::pair<std::vector<std::uint8_t>, Kek>> keks_;  // most recent last, at most 8
};

}  // namespace byok::hsm
