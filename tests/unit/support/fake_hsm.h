#pragma once
// An HSM in memory behind hsm::Hsm, for executor unit tests: keys with their attributes and
// material, and wrap_key doing the very wraps of the real one in software (hsm/software_wrap.h),
// so the KEK checks (hsm/kek.h: InvalidArgument for a weak or odd key) and the blob's layout are
// the real ones. Like Pkcs11Hsm it refuses to wrap a key that is not extractable
// (PermissionDenied), and it learns on the first SHA-256 wrap whether OAEP SHA-256 works
// (`oaep_sha256_works`; Unsupported and capabilities().oaep_sha256 == false when not, as
// SoftHSM2 2.6.1). The material never leaves but wrapped. Calls and scripted errors: `log`.

#include <optional>
#include <string>
#include <vector>

#include "hsm/hsm.h"
#include "hsm/software_wrap.h"
#include "tests/hsm/crypto_check.h"
#include "tests/unit/support/call_log.h"

namespace byok::testing {

class FakeHsm : public hsm::Hsm {
 public:
  struct Key {
    hsm::KeyInfo info;
    std::vector<std::uint8_t> material;  // raw (symmetric) or PKCS#8 DER
  };
  hsm::Capabilities caps{
      {hsm::KeyType::Aes128Gcm96, hsm::KeyType::Aes256Gcm96}, true, true, false, std::nullopt};
  bool oaep_sha256_works = true;
  CallLog log;
  std::vector<Key> keys;

  // A sensitive, extractable key with fresh material, as byokctl generate makes them.
  Key& add_key(const std::string& label, hsm::KeyType type, const std::string& id_hex = "") {
    Key k;
    k.info.label = label;
    k.info.id_hex = id_hex.empty() ? "0" + std::to_string(keys.size() + 1) : id_hex;
    k.info.type = type;
    k.info.sensitive = k.info.extractable = true;
    if (hsm::key_family(type) == hsm::KeyFamily::Aes ||
        hsm::key_family(type) == hsm::KeyFamily::Chacha20) {
      k.material = hsm::test::random_bytes(type == hsm::KeyType::Aes128Gcm96 ? 16 : 32);
      k.info.pkcs11_key_type = hsm::key_family(type) == hsm::KeyFamily::Aes ? "AES" : "CHACHA20";
    } else {
      auto pkey = hsm::test::generate_for(type);
      k.material = hsm::test::private_pkcs8(pkey.get());
      k.info.is_private = true;
      k.info.pkcs11_key_type = hsm::key_family(type) == hsm::KeyFamily::Rsa ? "RSA" : "EC";
    }
    keys.push_back(std::move(k));
    return keys.back();
  }
  Result<hsm::HsmInfo> info() override {
    if (auto e = log.record("info", "")) return *e;
    hsm::HsmInfo i;
    i.token_label = "fake";
    return i;
  }
  Result<hsm::Capabilities> capabilities() override {
    if (auto e = log.record("capabilities", "")) return *e;
    return caps;
  }
  Result<std::vector<hsm::KeyInfo>> list_keys() override {
    if (auto e = log.record("list_keys", "")) return *e;
    std::vector<hsm::KeyInfo> out;
    for (const auto& k : keys) out.push_back(k.info);
    return out;
  }
  Result<hsm::KeyInfo> find_key(const hsm::KeyRef& ref) override {
    if (auto e = log.record("find_key", ref.describe())) return *e;
    auto k = lookup(ref);
    if (!k) return k.error();
    return (*k)->info;
  }
  Result<hsm::KeyInfo> generate_key(const hsm::GenerateRequest& request) override {
    if (auto e = log.record("generate_key", request.label)) return *e;
    if (lookup(hsm::KeyRef::label(request.label)))
      return make_error(ErrorKind::FailedPrecondition,
                        "label \"" + request.label + "\" is already used");
    auto& k = add_key(request.label, request.type, request.id_hex);
    k.info.wrap_with_trusted = request.wrap_with_trusted;
    return k.info;
  }
  Result<std::vector<std::uint8_t>> wrap_key(const hsm::KeyRef& target, const hsm::WrapSpec& spec,
                                             std::span<const std::uint8_t> kek) override {
    if (auto e = log.record("wrap_key", target.describe() + " " + hsm::describe(spec))) return *e;
    auto k = lookup(target);
    if (!k) return k.error();
    if (!(*k)->info.extractable)
      return make_error(ErrorKind::PermissionDenied,
                        "the key with " + target.describe() + " is not extractable");
    if (spec.hash == hsm::OaepHash::Sha256) {
      caps.oaep_sha256 = oaep_sha256_works;
      if (!oaep_sha256_works)
        return make_error(
            ErrorKind::Unsupported,
            "C_WrapKey: CKR_MECHANISM_PARAM_INVALID (this HSM has no RSA-OAEP with SHA-256)");
    }
    hsm::SoftwareKey key{*(*k)->info.type,
                         hsm::SecureBuffer((*k)->material.data(), (*k)->material.size())};
    return hsm::software_wrap(key, spec, kek);
  }

 private:
  Result<Key*> lookup(const hsm::KeyRef& ref) {
    std::vector<Key*> found;
    for (auto& k : keys)
      if ((ref.by == hsm::KeyRef::By::Label ? k.info.label : k.info.id_hex) == ref.value)
        found.push_back(&k);
    if (found.empty())
      return make_error(ErrorKind::NotFound, "no secret or private key with " + ref.describe());
    if (found.size() > 1)
      return make_error(ErrorKind::FailedPrecondition, "more than one key with " + ref.describe());
    return found.front();
  }
};

}  // namespace byok::testing
