#pragma once
// A KMS in memory behind kms::KmsProvider, for executor unit tests. It keeps keys by name with
// their owner mark, serves one RSA-3072 wrapping key of its own, and on import unwraps the
// material with the private half as a KMS does (tests/hsm/crypto_check.h), so a test sees what
// arrived. It holds the interface's guarantees against its caller, recording each breach in
// `violations` (a test checks it is empty):
//   - import_key is sent once per prepared wrapping key (import token), never for a key that
//     does not exist, never First into a key that holds material nor NewVersion into one that
//     holds none;
//   - the wrapped bytes unwrap under the wrapping key and the algorithm the KMS named.
// Calls and scripted errors: `log`; check_target answers `target_refusal` when set.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hsm/encoding.h"
#include "hsm/wrap_spec.h"
#include "kms/kms_provider.h"
#include "kms/provider_traits.h"
#include "tests/hsm/crypto_check.h"
#include "tests/unit/support/call_log.h"

namespace byok::testing {

class FakeKms : public kms::KmsProvider {
 public:
  struct Key {
    kms::KeyDescription description;
    std::string owner;
    std::vector<std::uint8_t> material;  // the last material imported, as the KMS unwrapped it
    int versions = 0;
  };

  std::string type = "transit";  // provider(); decides what the algorithms mean (hsm/wrap_spec.h)
  std::vector<std::string> algorithms{"SHA256", "SHA1"};
  std::optional<Error> target_refusal;  // check_target's answer
  kms::Accessor accessor{"fake-principal", "fake-account", ""};
  bool attested = false;  // prepare_import says the wrapping key is attested
  // Runs inside prepare_import, after its call is logged: the world changing while the KMS
  // answers (a namespace relabelled, a controller about to die).
  std::function<void()> during_prepare;
  mutable CallLog log;  // mutable: check_target is const
  std::vector<std::string> violations;
  std::map<std::string, Key> keys;  // by name

  FakeKms() : kek_(hsm::test::generate_rsa(3072)) {
    auto der = hsm::test::public_der(kek_.get());
    kek_der_.assign(der.begin(), der.end());
  }
  std::string wrapping_key_fingerprint() const {
    return hsm::spki_fingerprint_sha256(
        {reinterpret_cast<const std::uint8_t*>(kek_der_.data()), kek_der_.size()});
  }

  const char* provider() const override { return type.c_str(); }
  Result<kms::KeyDescription> describe_key(const std::string& key_id) override {
    if (auto e = log.record("describe_key", key_id)) return *e;
    if (auto* k = by_id(key_id)) return k->description;
    return make_error(ErrorKind::NotFound, "no key " + key_id);
  }
  Result<kms::DeletionSchedule> schedule_key_deletion(const std::string& key_id, int) override {
    if (auto e = log.record("schedule_key_deletion", key_id)) return *e;
    auto* k = by_id(key_id);
    if (!k) return make_error(ErrorKind::NotFound, "no key " + key_id);
    set_state(*k, "PendingDeletion", kms::CmkStatus::Deleted);
    return kms::DeletionSchedule{key_id, "PendingDeletion", std::nullopt};
  }
  Status cancel_key_deletion(const std::string& key_id) override {
    if (auto e = log.record("cancel_key_deletion", key_id)) return *e;
    auto* k = by_id(key_id);
    if (!k) return make_error(ErrorKind::NotFound, "no key " + key_id);
    set_state(*k, "Disabled", kms::CmkStatus::Old);
    return {};
  }
  Result<kms::Accessor> who_am_i() override {
    if (auto e = log.record("who_am_i", "")) return *e;
    return accessor;
  }
  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override {
    if (auto e = log.record("wrapping_algorithms", key_type)) return *e;
    return algorithms;
  }
  Status check_target(const kms::ImportTarget& target, SystemTime) const override {
    if (auto e = log.record("check_target", target.name)) return *e;
    if (target_refusal) return *target_refusal;
    return {};
  }
  Result<std::optional<kms::KeyDescription>> find_key(const kms::ImportTarget& target) override {
    if (auto e = log.record("find_key", target.name)) return *e;
    auto it = keys.find(target.name);
    if (it == keys.end()) return std::optional<kms::KeyDescription>();
    if (it->second.owner != target.owner)
      return make_error(ErrorKind::AlreadyExists,
                        "key " + target.name + " belongs to another owner");
    return std::optional(it->second.description);
  }
  Result<kms::WrappingKey> prepare_import(const kms::ImportTarget& target,
                                          const std::string& existing) override {
    if (auto e = log.record("prepare_import",
                            target.name + " into " + (existing.empty() ? "(new)" : existing)))
      return *e;
    if (during_prepare) during_prepare();
    kms::WrappingKey w;
    if (existing.empty()) {
      if (keys.count(target.name))
        violations.push_back("prepare_import made a second key named " + target.name);
      Key k;
      k.owner = target.owner;
      k.description.key_id = "key-" + std::to_string(keys.size() + 1);
      k.description.resource = "fake:" + k.description.key_id;
      k.description.name = target.name;
      set_state(k, "PendingImport", kms::CmkStatus::Old);
      keys[target.name] = k;
      w.key_id = k.description.key_id;
    } else if (!by_id(existing)) {
      return make_error(ErrorKind::NotFound, "no key " + existing);
    }
    w.public_key_der = kek_der_;
    w.algorithm = target.wrapping_algorithm;
    w.import_token = "token-" + std::to_string(++tokens_);
    w.attested = attested;
    if (attested) w.attestation_problem.clear();
    return w;
  }
  Result<kms::ImportResult> import_key(const kms::ImportTarget& target,
                                       const kms::WrappingKey& wrapping, const std::string& wrapped,
                                       kms::ImportKind kind) override {
    if (!used_tokens_.insert(wrapping.import_token).second)
      violations.push_back("import_key sent twice with " + wrapping.import_token);
    if (auto e = log.record("import_key", target.name)) return *e;
    auto it = keys.find(target.name);
    if (it == keys.end()) {
      violations.push_back("import_key into " + target.name + ", which was never prepared");
      return make_error(ErrorKind::NotFound, "no key " + target.name);
    }
    auto& k = it->second;
    const bool holds = k.versions > 0;
    if (kind == kms::ImportKind::First && holds)
      violations.push_back("a first import into " + target.name + ", which holds material");
    if (kind == kms::ImportKind::NewVersion && !holds)
      violations.push_back("a new version of " + target.name + ", which holds no material");
    auto material = unwrap(wrapping.algorithm, wrapped);
    if (!material) {
      violations.push_back("the material for " + target.name + " does not unwrap under " +
                           wrapping.algorithm);
      return make_error(ErrorKind::InvalidArgument, "the wrapped key material is invalid");
    }
    k.material = *material;
    k.description.version = "v" + std::to_string(++k.versions);
    k.description.imported = true;
    set_state(k, "Enabled", kms::CmkStatus::Current);
    return kms::ImportResult{k.description.key_id, k.description.resource, k.description.version};
  }

 private:
  Key* by_id(const std::string& id) {
    for (auto& [name, k] : keys)
      if (k.description.key_id == id || k.description.resource == id) return &k;
    return nullptr;
  }
  static void set_state(Key& k, const std::string& state, kms::CmkStatus status) {
    k.description.state = state;
    k.description.status = status;
    k.description.enabled = status == kms::CmkStatus::Current;
    // Material arrives with the import and stays through disabling and scheduled deletion.
    if (state == "Enabled") k.description.holds_material = true;
    if (state == "PendingImport") k.description.holds_material = false;
  }
  std::optional<std::vector<std::uint8_t>> unwrap(const std::string& algorithm,
                                                  const std::string& wrapped) {
    auto spec = kms::wrap_spec_for(type, algorithm);
    if (!spec) return std::nullopt;
    std::span<const std::uint8_t> blob{reinterpret_cast<const std::uint8_t*>(wrapped.data()),
                                       wrapped.size()};
    return spec->method == hsm::WrapMethod::RsaOaep
               ? hsm::test::oaep_decrypt(kek_.get(), spec->hash, blob)
               : hsm::test::unwrap_rsa_aes(kek_.get(), spec->hash, blob);
  }

  hsm::test::Pkey kek_;
  std::string kek_der_;
  int tokens_ = 0;
  std::set<std::string> used_tokens_;
};

}  // namespace byok::testing
