#include "hsm/pkcs11_hsm.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <openssl/rand.h>

#include "hsm/encoding.h"
#include "hsm/kek.h"
#include "hsm/pkcs11_error.h"
#include "hsm/pkcs11_objects.h"

namespace byok::hsm {
namespace {

constexpr std::size_t kWrapBufferHint = 8192;  // enough for RSA-4096 || KWP(PKCS#8 RSA-4096)

bool same_bytes(const std::vector<std::uint8_t>& a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::string pkcs11_key_type_name(CK_KEY_TYPE t) {
  switch (t) {
    case CKK_AES:
      return "AES";
    case CKK_RSA:
      return "RSA";
    case CKK_EC:
      return "EC";
    case CKK_EC_EDWARDS:
      return "EC_EDWARDS";
    case CKK_CHACHA20:
      return "CHACHA20";
    case CKK_GENERIC_SECRET:
      return "GENERIC_SECRET";
    case CKK_DES3:
      return "DES3";
    case CKK_DSA:
      return "DSA";
    default: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(t));
      return buf;
    }
  }
}

std::optional<KeyType> detect_type(CK_KEY_TYPE kt, CK_ULONG value_len,
                                   const std::optional<std::vector<std::uint8_t>>& modulus,
                                   const std::optional<std::vector<std::uint8_t>>& ec_params) {
  switch (kt) {
    case CKK_AES:
      if (value_len == 16) return KeyType::Aes128Gcm96;
      if (value_len == 32) return KeyType::Aes256Gcm96;
      return std::nullopt;
    case CKK_CHACHA20:
      return KeyType::Chacha20Poly1305;
    case CKK_RSA: {
      if (!modulus) return std::nullopt;
      std::size_t n = modulus->size();
      std::size_t i = 0;
      while (i < n && (*modulus)[i] == 0) ++i;  // some modules keep a leading zero
      std::size_t bits = (n - i) * 8;
      if (bits == 2048) return KeyType::Rsa2048;
      if (bits == 3072) return KeyType::Rsa3072;
      if (bits == 4096) return KeyType::Rsa4096;
      return std::nullopt;
    }
    case CKK_EC:
      if (!ec_params) return std::nullopt;
      if (same_bytes(*ec_params, ec_params_p256())) return KeyType::EcdsaP256;
      if (same_bytes(*ec_params, ec_params_p384())) return KeyType::EcdsaP384;
      if (same_bytes(*ec_params, ec_params_p521())) return KeyType::EcdsaP521;
      return std::nullopt;
    case CKK_EC_EDWARDS: {
      // Either the OID or PrintableString "edwards25519" (PKCS#11 v3.0 allows both).
      static constexpr char kName[] = "edwards25519";
      if (!ec_params) return std::nullopt;
      if (same_bytes(*ec_params, ec_params_ed25519())) return KeyType::Ed25519;
      if (ec_params->size() == 2 + sizeof kName - 1 &&
          std::memcmp(ec_params->data() + 2, kName, sizeof kName - 1) == 0)
        return KeyType::Ed25519;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// Reads what KeyInfo needs in two C_GetAttributeValue calls (on file-backed tokens each call
// costs tens of microseconds, so batching matters); a lost session is marked on `s`.
Result<KeyInfo> read_key_info(Session& s, CK_OBJECT_HANDLE obj) {
  CK_OBJECT_CLASS cls = 0;
  CK_KEY_TYPE key_type = CK_UNAVAILABLE_INFORMATION;
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_FALSE, with_trusted = CK_FALSE;
  std::uint8_t label[256], id[256];
  CK_ATTRIBUTE first[] = {{CKA_CLASS, &cls, sizeof cls},
                          {CKA_KEY_TYPE, &key_type, sizeof key_type},
                          {CKA_SENSITIVE, &sensitive, sizeof sensitive},
                          {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                          {CKA_LABEL, label, sizeof label},
                          {CKA_ID, id, sizeof id},
                          {CKA_WRAP_WITH_TRUSTED, &with_trusted, sizeof with_trusted}};
  CK_RV rv = s.fn()->C_GetAttributeValue(s.handle(), obj, first, 7);
  // SENSITIVE / TYPE_INVALID: the others are still filled in, the missing one is marked.
  if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
      rv != CKR_BUFFER_TOO_SMALL)
    return s.fail(rv, "reading key attributes");
  KeyInfo info;
  auto available = [](const CK_ATTRIBUTE& a) { return a.ulValueLen != CK_UNAVAILABLE_INFORMATION; };
  info.is_private = cls == CKO_PRIVATE_KEY;
  info.pkcs11_key_type = pkcs11_key_type_name(key_type);
  info.sensitive = available(first[2]) && sensitive == CK_TRUE;
  info.extractable = available(first[3]) && extractable == CK_TRUE;
  info.wrap_with_trusted = available(first[6]) && with_trusted == CK_TRUE;
  if (rv == CKR_BUFFER_TOO_SMALL) {  // a label or id over 256 bytes: read those one by one
    for (auto [type, out] : {std::pair{CKA_LABEL, &info.label}, std::pair{CKA_ID, &info.id_hex}}) {
      CK_RV arv = CKR_OK;
      auto v = get_attribute(s.fn(), s.handle(), obj, type, &arv);
      if (!v.ok()) return s.fail(arv, "reading key attributes");
      if (v.value())
        *out = type == CKA_LABEL ? std::string(v.value()->begin(), v.value()->end())
                                 : to_hex(*v.value());
    }
  } else {
    if (available(first[4])) info.label.assign(reinterpret_cast<char*>(label), first[4].ulValueLen);
    if (available(first[5])) info.id_hex = to_hex({id, first[5].ulValueLen});
  }

  CK_ULONG value_len = 0;
  std::optional<std::vector<std::uint8_t>> modulus, ec_params;
  CK_ATTRIBUTE_TYPE second = 0;
  if (key_type == CKK_AES || key_type == CKK_CHACHA20 || key_type == CKK_GENERIC_SECRET) {
    CK_ATTRIBUTE a{CKA_VALUE_LEN, &value_len, sizeof value_len};
    rv = s.fn()->C_GetAttributeValue(s.handle(), obj, &a, 1);
    if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
      return s.fail(rv, "reading CKA_VALUE_LEN");
  } else if (key_type == CKK_RSA) {
    second = CKA_MODULUS;
  } else if (key_type == CKK_EC || key_type == CKK_EC_EDWARDS) {
    second = CKA_EC_PARAMS;
  }
  if (second != 0) {
    CK_RV arv = CKR_OK;
    auto v = get_attribute(s.fn(), s.handle(), obj, second, &arv);
    if (!v.ok()) return s.fail(arv, "reading key attributes");
    (second == CKA_MODULUS ? modulus : ec_params) = std::move(v.value());
  }
  info.type = detect_type(key_type, value_len, modulus, ec_params);
  return info;
}

// True if the handle still names a key with this label/id (one attribute read): a cached handle
// is checked this way before it is trusted again.
bool still_names(Session& s, CK_OBJECT_HANDLE obj, const KeyRef& ref,
                 const std::vector<std::uint8_t>& id) {
  CK_OBJECT_CLASS cls = 0;
  std::uint8_t buf[256];
  CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof cls},
                      {ref.by == KeyRef::By::Label ? CKA_LABEL : CKA_ID, buf, sizeof buf}};
  if (s.fn()->C_GetAttributeValue(s.handle(), obj, a, 2) != CKR_OK) return false;
  if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY) return false;
  if (ref.by == KeyRef::By::Label)
    return std::string_view(reinterpret_cast<char*>(buf), a[1].ulValueLen) == ref.value;
  return a[1].ulValueLen == id.size() && std::equal(id.begin(), id.end(), buf);
}

struct Found {
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  KeyInfo info;
};

Result<std::vector<CK_OBJECT_HANDLE>> find_keys(Session& s, const KeyRef* ref) {
  std::vector<CK_OBJECT_HANDLE> all;
  std::vector<std::uint8_t> id;
  if (ref && ref->by == KeyRef::By::Id) {
    auto parsed = from_hex(ref->value);
    if (!parsed || parsed->empty())
      return make_error(ErrorKind::InvalidArgument, "key id \"" + ref->value + "\" is not hex");
    id = std::move(*parsed);
  }
  for (CK_OBJECT_CLASS cls : {CKO_SECRET_KEY, CKO_PRIVATE_KEY}) {
    Template t;
    t.ulong(CKA_CLASS, cls);
    if (ref && ref->by == KeyRef::By::Label) t.text(CKA_LABEL, ref->value);
    if (ref && ref->by == KeyRef::By::Id) t.bytes(CKA_ID, id);
    CK_RV rv = CKR_OK;
    auto found = find_objects(s.fn(), s.handle(), t, &rv);
    if (!found.ok()) return s.fail(rv, "finding keys");
    all.insert(all.end(), found.value().begin(), found.value().end());
  }
  return all;
}

Result<Found> find_one(Session& s, const KeyRef& ref, const std::string& token) {
  auto handles = find_keys(s, &ref);
  if (!handles.ok()) return handles.error();
  if (handles.value().empty())
    return make_error(ErrorKind::NotFound, "no secret or private key with " + ref.describe() +
                                               " on token \"" + token + "\"");
  if (handles.value().size() > 1)
    return make_error(ErrorKind::FailedPrecondition,
                      std::to_string(handles.value().size()) + " keys have " + ref.describe() +
                          " on token \"" + token + "\"; use a unique label or the id");
  auto info = read_key_info(s, handles.value().front());
  if (!info.ok()) return info.error();
  return Found{handles.value().front(), std::move(info.value())};
}

// One C_WrapKey call into a buffer that is normally large enough; a second only if the module
// says it is not (the usual size-query call would double the work of an RSA operation).
CK_RV wrap_once(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, CK_MECHANISM* mech,
                CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE target,
                std::vector<std::uint8_t>& out) {
  out.resize(kWrapBufferHint);
  CK_ULONG len = out.size();
  CK_RV rv = fn->C_WrapKey(s, mech, wrapping, target, out.data(), &len);
  if (rv == CKR_BUFFER_TOO_SMALL) {
    out.resize(len);
    rv = fn->C_WrapKey(s, mech, wrapping, target, out.data(), &len);
  }
  if (rv == CKR_OK) out.resize(len);
  return rv;
}

std::string mech_need(CK_MECHANISM_TYPE m) {
  switch (m) {
    case CKM_AES_KEY_GEN:
      return "CKM_AES_KEY_GEN";
    case CKM_CHACHA20_KEY_GEN:
      return "CKM_CHACHA20_KEY_GEN";
    case CKM_RSA_PKCS_KEY_PAIR_GEN:
      return "CKM_RSA_PKCS_KEY_PAIR_GEN";
    case CKM_EC_KEY_PAIR_GEN:
      return "CKM_EC_KEY_PAIR_GEN";
    case CKM_EC_EDWARDS_KEY_PAIR_GEN:
      return "CKM_EC_EDWARDS_KEY_PAIR_GEN";
    default:
      return "mechanism";
  }
}

CK_MECHANISM_TYPE generator_for(KeyType type) {
  switch (key_family(type)) {
    case KeyFamily::Aes:
      return CKM_AES_KEY_GEN;
    case KeyFamily::Chacha20:
      return CKM_CHACHA20_KEY_GEN;
    case KeyFamily::Rsa:
      return CKM_RSA_PKCS_KEY_PAIR_GEN;
    case KeyFamily::Ec:
      return CKM_EC_KEY_PAIR_GEN;
    case KeyFamily::Ed25519:
      return CKM_EC_EDWARDS_KEY_PAIR_GEN;
  }
  return CKM_AES_KEY_GEN;
}

std::span<const std::uint8_t> ec_params_for(KeyType type) {
  switch (type) {
    case KeyType::EcdsaP384:
      return ec_params_p384();
    case KeyType::EcdsaP521:
      return ec_params_p521();
    case KeyType::Ed25519:
      return ec_params_ed25519();
    default:
      return ec_params_p256();
  }
}

std::string family_word(KeyType type) {
  switch (key_family(type)) {
    case KeyFamily::Aes:
      return "AES";
    case KeyFamily::Chacha20:
      return "chacha20";
    case KeyFamily::Rsa:
      return "RSA";
    case KeyFamily::Ec:
      return "EC";
    case KeyFamily::Ed25519:
      return "ed25519";
  }
  return "such";
}

}  // namespace

Result<std::unique_ptr<Pkcs11Hsm>> Pkcs11Hsm::open(std::shared_ptr<Module> module,
                                                   const std::string& token_label, SecureBuffer pin,
                                                   Options options, Logger* log) {
  auto pool = SessionPool::create(module, token_label, std::move(pin), options.pool, log);
  if (!pool.ok()) return pool.error();
  auto mechs = module->mechanisms(pool.value()->token().slot);
  if (!mechs.ok()) return mechs.error();
  return std::unique_ptr<Pkcs11Hsm>(new Pkcs11Hsm(std::move(module), std::move(pool.value()),
                                                  std::move(mechs.value()), options, log));
}

Result<std::unique_ptr<Pkcs11Hsm>> Pkcs11Hsm::open(const HsmConfig& config, const EnvLookup& env,
                                                   Logger* log) {
  if (auto st = validate(config); !st.ok()) return st.error();
  auto pin = read_pin(config, env);
  if (!pin.ok()) return pin.error();
  auto module = Module::load(config.module);
  if (!module.ok()) return module.error();
  Options options;
  if (config.max_sessions != 0) options.pool.max_sessions = config.max_sessions;
  return open(std::move(module.value()), config.token, std::move(pin.value()), options, log);
}

Result<Pkcs11Hsm::CachedKey> Pkcs11Hsm::lookup(Session& s, const KeyRef& ref,
                                               const std::string& token, bool* from_cache) {
  *from_cache = false;
  CacheKey ck{static_cast<int>(ref.by), ref.value};
  SteadyTime now = options_.clock->steady_now();
  std::optional<CachedKey> cached;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = keys_.find(ck);
    if (it != keys_.end()) {
      if (it->second.epoch == s.epoch())
        cached = it->second;
      else
        keys_.erase(it);  // from before a reconnect: handles may have changed
    }
  }
  if (cached) {
    bool fresh = now - cached->checked < options_.key_cache_ttl;
    std::vector<std::uint8_t> id;
    if (ref.by == KeyRef::By::Id) id = from_hex(ref.value).value_or(std::vector<std::uint8_t>{});
    if (fresh || still_names(s, cached->handle, ref, id)) {
      if (!fresh) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        auto it = keys_.find(ck);
        if (it != keys_.end()) it->second.checked = now;
      }
      *from_cache = true;
      return *cached;
    }
    forget(ref);
  }
  auto found = find_one(s, ref, token);
  if (!found.ok()) return found.error();
  CachedKey entry{found.value().handle, std::move(found.value().info), s.epoch(), now};
  std::lock_guard<std::mutex> lock(cache_mu_);
  keys_[ck] = entry;
  return entry;
}

void Pkcs11Hsm::forget(const KeyRef& ref) {
  std::lock_guard<std::mutex> lock(cache_mu_);
  keys_.erase(CacheKey{static_cast<int>(ref.by), ref.value});
}

Result<Kek> Pkcs11Hsm::cached_kek(std::span<const std::uint8_t> input) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    for (const auto& [bytes, kek] : keks_)
      if (bytes.size() == input.size() && std::equal(bytes.begin(), bytes.end(), input.begin()))
        return kek;
  }
  // OpenSSL 3's decoders take about a millisecond per KEK; a controller reuses a few KEKs.
  auto kek = parse_kek(input);
  if (!kek.ok()) return kek;
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (keks_.size() >= 8) keks_.erase(keks_.begin());
  keks_.emplace_back(std::vector<std::uint8_t>(input.begin(), input.end()), kek.value());
  return kek;
}

bool Pkcs11Hsm::has_mechanism(CK_MECHANISM_TYPE m) const {
  return std::find(mechanisms_.begin(), mechanisms_.end(), m) != mechanisms_.end();
}

std::optional<CK_MECHANISM_TYPE> Pkcs11Hsm::kwp_mechanism() const {
  if (has_mechanism(CKM_AES_KEY_WRAP_KWP)) return CKM_AES_KEY_WRAP_KWP;
  if (has_mechanism(CKM_AES_KEY_WRAP_PAD)) return CKM_AES_KEY_WRAP_PAD;
  return std::nullopt;
}

Result<HsmInfo> Pkcs11Hsm::info() {
  auto mi = module_->info();
  if (!mi.ok()) return mi.error();
  TokenInfo ti = pool_->token();
  HsmInfo out;
  out.module_path = module_->path();
  out.manufacturer = mi.value().manufacturer;
  out.library_description = mi.value().library_description;
  out.library_version = mi.value().library_version;
  out.token_label = ti.label;
  out.token_manufacturer = ti.manufacturer;
  out.token_model = ti.model;
  out.token_serial = ti.serial;
  out.firmware_version = ti.firmware_version;
  return out;
}

Result<Capabilities> Pkcs11Hsm::capabilities() {
  Capabilities c;
  for (KeyType t : all_key_types())
    if (has_mechanism(generator_for(t))) c.can_generate.push_back(t);
  c.rsa_oaep = has_mechanism(CKM_RSA_PKCS_OAEP);
  c.aes_key_wrap_pad = kwp_mechanism().has_value();
  c.native_rsa_aes_key_wrap = has_mechanism(CKM_RSA_AES_KEY_WRAP);
  int learned = oaep_sha256_.load();
  if (learned >= 0) c.oaep_sha256 = learned == 1;
  return c;
}

Result<std::vector<KeyInfo>> Pkcs11Hsm::list_keys() {
  return pool_->run([&](Session& s) -> Result<std::vector<KeyInfo>> {
    auto handles = find_keys(s, nullptr);
    if (!handles.ok()) return handles.error();
    std::vector<KeyInfo> out;
    for (CK_OBJECT_HANDLE h : handles.value()) {
      auto info = read_key_info(s, h);
      if (!info.ok()) return info.error();
      out.push_back(std::move(info.value()));
    }
    std::sort(out.begin(), out.end(),
              [](const KeyInfo& a, const KeyInfo& b) { return a.label < b.label; });
    return out;
  });
}

Result<KeyInfo> Pkcs11Hsm::find_key(const KeyRef& ref) {
  std::string token = pool_->token().label;
  return pool_->run([&](Session& s) -> Result<KeyInfo> {
    auto found = find_one(s, ref, token);
    if (!found.ok()) return found.error();
    return std::move(found.value().info);
  });
}

Result<KeyInfo> Pkcs11Hsm::generate_key(const GenerateRequest& req) {
  if (req.label.empty()) return make_error(ErrorKind::InvalidArgument, "a key needs a label");
  CK_MECHANISM_TYPE gen = generator_for(req.type);
  if (!has_mechanism(gen)) {
    return make_error(ErrorKind::Unsupported,
                      "this HSM cannot generate " + family_word(req.type) + " keys (no " +
                          mech_need(gen) + " in its mechanism list); " +
                          std::string(key_type_name(req.type)) + " is not available here");
  }
  std::vector<std::uint8_t> id;
  if (!req.id_hex.empty()) {
    auto parsed = from_hex(req.id_hex);
    if (!parsed || parsed->empty())
      return make_error(ErrorKind::InvalidArgument, "key id \"" + req.id_hex + "\" is not hex");
    id = std::move(*parsed);
  } else {
    id.resize(16);
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1)
      return make_error(ErrorKind::Internal, "no randomness for a key id");
  }
  std::string token = pool_->token().label;

  return pool_->run([&](Session& s) -> Result<KeyInfo> {
    // Check first: a retry after a lost session must not create a second key.
    for (CK_OBJECT_CLASS cls : {CKO_SECRET_KEY, CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
      Template t;
      t.ulong(CKA_CLASS, cls).text(CKA_LABEL, req.label);
      CK_RV rv = CKR_OK;
      auto existing = find_objects(s.fn(), s.handle(), t, &rv);
      if (!existing.ok()) return s.fail(rv, "checking the label");
      if (!existing.value().empty())
        return make_error(
            ErrorKind::FailedPrecondition,
            "a key labelled \"" + req.label + "\" already exists on token \"" + token + "\"");
    }
    CK_MECHANISM mech{gen, nullptr, 0};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_RV rv = CKR_OK;
    if (is_symmetric(req.type)) {
      Template t;
      t.ulong(CKA_CLASS, CKO_SECRET_KEY)
          .ulong(CKA_KEY_TYPE, key_family(req.type) == KeyFamily::Aes ? CKK_AES : CKK_CHACHA20)
          .ulong(CKA_VALUE_LEN, key_size(req.type))
          .flag(CKA_TOKEN, true)
          .flag(CKA_PRIVATE, true)
          .flag(CKA_SENSITIVE, true)
          .flag(CKA_EXTRACTABLE, true)  // only ever leaves wrapped: CKA_SENSITIVE forbids reading
          .flag(CKA_WRAP_WITH_TRUSTED, req.wrap_with_trusted)
          .flag(CKA_ENCRYPT, true)
          .flag(CKA_DECRYPT, true)
          .text(CKA_LABEL, req.label)
          .bytes(CKA_ID, id);
      rv = s.fn()->C_GenerateKey(s.handle(), &mech, t.data(), t.size(), &key);
    } else {
      bool rsa = key_family(req.type) == KeyFamily::Rsa;
      Template pub, priv;
      pub.flag(CKA_TOKEN, true).flag(CKA_VERIFY, true).text(CKA_LABEL, req.label).bytes(CKA_ID, id);
      priv.flag(CKA_TOKEN, true)
          .flag(CKA_PRIVATE, true)
          .flag(CKA_SENSITIVE, true)
          .flag(CKA_EXTRACTABLE, true)
          .flag(CKA_WRAP_WITH_TRUSTED, req.wrap_with_trusted)
          .flag(CKA_SIGN, true)
          .text(CKA_LABEL, req.label)
          .bytes(CKA_ID, id);
      if (rsa) {
        static constexpr std::uint8_t kF4[] = {0x01, 0x00, 0x01};
        pub.ulong(CKA_MODULUS_BITS, key_size(req.type)).bytes(CKA_PUBLIC_EXPONENT, kF4);
        pub.flag(CKA_ENCRYPT, true);
        priv.flag(CKA_DECRYPT, true);
      } else {
        pub.bytes(CKA_EC_PARAMS, ec_params_for(req.type));
      }
      CK_OBJECT_HANDLE pub_h = CK_INVALID_HANDLE;
      rv = s.fn()->C_GenerateKeyPair(s.handle(), &mech, pub.data(), pub.size(), priv.data(),
                                     priv.size(), &pub_h, &key);
    }
    if (rv != CKR_OK) {
      Error e = s.fail(
          rv, "generating " + std::string(key_type_name(req.type)) + " key \"" + req.label + "\"");
      if (e.kind == ErrorKind::Unsupported || rv == CKR_TEMPLATE_INCONSISTENT ||
          rv == CKR_ATTRIBUTE_VALUE_INVALID) {
        e.kind = ErrorKind::Unsupported;
        e.message = "this HSM cannot generate " + std::string(key_type_name(req.type)) +
                    " keys: " + e.message;
      }
      return e;
    }
    if (log_)
      log_->info("hsm key generated", {{"label", req.label},
                                       {"type", std::string(key_type_name(req.type))},
                                       {"id", to_hex(id)}});
    return read_key_info(s, key);
  });
}

Result<std::vector<std::uint8_t>> Pkcs11Hsm::wrap_key(const KeyRef& target, const WrapSpec& spec,
                                                      std::span<const std::uint8_t> kek_input) {
  auto kek = cached_kek(kek_input);
  if (!kek.ok()) return kek.error();
  if (spec.kek_bits != 0 && kek.value().bits != spec.kek_bits) {
    return make_error(ErrorKind::InvalidArgument,
                      "the import method wants an RSA-" + std::to_string(spec.kek_bits) +
                          " KEK, but this KEK is RSA-" + std::to_string(kek.value().bits));
  }
  const char* kSha256Refused =
      "this HSM's RSA-OAEP does not accept SHA-256 (SoftHSM2 2.6.1, for one, supports OAEP "
      "only with SHA-1/MGF1-SHA1); choose a SHA-1 wrapping algorithm or import method";
  if (spec.hash == OaepHash::Sha256 && oaep_sha256_.load() == 0)
    return make_error(ErrorKind::Unsupported, kSha256Refused);
  bool native = spec.method == WrapMethod::RsaAesKeyWrap && has_mechanism(CKM_RSA_AES_KEY_WRAP);
  if (!native && !has_mechanism(CKM_RSA_PKCS_OAEP))
    return make_error(ErrorKind::Unsupported, "this HSM offers no CKM_RSA_PKCS_OAEP");
  const auto kwp = kwp_mechanism();
  if (spec.method == WrapMethod::RsaAesKeyWrap && !native && !kwp)
    return make_error(ErrorKind::Unsupported,
                      "this HSM offers neither CKM_RSA_AES_KEY_WRAP nor RFC 5649 AES key wrap "
                      "(CKM_AES_KEY_WRAP_KWP or CKM_AES_KEY_WRAP_PAD)");
  std::string token = pool_->token().label;
  // Set when a remembered handle turned out stale: the wrap is then retried once, looked up anew.
  bool stale_handle = false;

  auto attempt = [&](Session& s) -> Result<std::vector<std::uint8_t>> {
    bool from_cache = false;
    auto found = lookup(s, target, token, &from_cache);
    if (!found.ok()) return found.error();
    const KeyInfo& info = found.value().info;
    std::string what = info.type ? std::string(key_type_name(*info.type)) : info.pkcs11_key_type;
    if (!info.extractable) {
      return make_error(ErrorKind::PermissionDenied,
                        "key " + target.describe() +
                            " is not extractable (CKA_EXTRACTABLE=false), so it cannot be wrapped");
    }
    if (info.type) {
      if (auto st = check_wrap_target(spec, *info.type); !st.ok()) return st.error();
    } else if (info.is_private && spec.method == WrapMethod::RsaOaep) {
      return make_error(ErrorKind::InvalidArgument,
                        "direct RSA-OAEP can only carry symmetric keys");
    }

    // The KEK: for a key made with CKA_WRAP_WITH_TRUSTED (which wraps under nothing else), the
    // token's own copy a security officer installed as trusted; otherwise, or when there is none,
    // a session object for this wrap. Only such keys pay for the search.
    CK_OBJECT_HANDLE kek_h = CK_INVALID_HANDLE;
    CK_RV rv = CKR_OK;
    if (info.wrap_with_trusted) {
      Template ft;
      ft.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
          .ulong(CKA_KEY_TYPE, CKK_RSA)
          .flag(CKA_TOKEN, true)
          .flag(CKA_TRUSTED, true)
          .bytes(CKA_MODULUS, kek.value().modulus)
          .bytes(CKA_PUBLIC_EXPONENT, kek.value().public_exponent);
      auto trusted = find_objects(s.fn(), s.handle(), ft, &rv);
      if (!trusted.ok()) return s.fail(rv, "looking for a trusted copy of the KEK");
      if (!trusted.value().empty()) kek_h = trusted.value().front();
    }
    std::optional<ObjectGuard> kek_guard;
    if (kek_h == CK_INVALID_HANDLE) {
      Template kt = rsa_wrapping_key_template(kek.value().modulus, kek.value().public_exponent,
                                              /*token=*/false, /*trusted=*/false);
      rv = s.fn()->C_CreateObject(s.handle(), kt.data(), kt.size(), &kek_h);
      if (rv != CKR_OK) return s.fail(rv, "importing the KEK as a session object");
      kek_guard.emplace(s.fn(), s.handle(), kek_h);
    }
    // A key bound to trusted wrapping keys, refused by the token: say what would allow it.
    auto not_trusted = [&](CK_RV code) -> std::optional<Error> {
      if (code != CKR_KEY_NOT_WRAPPABLE || !info.wrap_with_trusted) return std::nullopt;
      return Error{
          ErrorKind::PermissionDenied,
          "key " + target.describe() +
              " has CKA_WRAP_WITH_TRUSTED: the token wraps it "
              "only under a wrapping key a security officer installed as trusted " +
              std::string(kek_guard ? "(this KEK " + kek.value().fingerprint_sha256 +
                                          " is not: byokctl trust-kek installs it)"
                                    : "(this KEK is, but the token cannot wrap the key "
                                      "with this method under it: SoftHSM2 2.6.1 has no "
                                      "native CKM_RSA_AES_KEY_WRAP, so only direct RSA-OAEP "
                                      "works)") +
              " (" + rv_error(code, "C_WrapKey").message + ")"};
    };

    CK_RSA_PKCS_OAEP_PARAMS oaep{};
    oaep.hashAlg = spec.hash == OaepHash::Sha1 ? CKM_SHA_1 : CKM_SHA256;
    oaep.mgf = spec.hash == OaepHash::Sha1 ? CKG_MGF1_SHA1 : CKG_MGF1_SHA256;
    oaep.source = CKZ_DATA_SPECIFIED;
    oaep.pSourceData = nullptr;
    oaep.ulSourceDataLen = 0;

    // What went wrong, in words the operator can act on.
    auto oaep_error = [&](CK_RV code, const std::string& step) -> Error {
      if (auto refused = not_trusted(code)) return *refused;
      Error e = s.fail(code, step);
      if (from_cache && (code == CKR_KEY_HANDLE_INVALID || code == CKR_OBJECT_HANDLE_INVALID))
        stale_handle = true;
      if (spec.hash == OaepHash::Sha256 &&
          (code == CKR_ARGUMENTS_BAD || code == CKR_MECHANISM_PARAM_INVALID)) {
        oaep_sha256_.store(0);
        return Error{ErrorKind::Unsupported, std::string(kSha256Refused) + " (" + e.message + ")"};
      }
      return e;
    };
    auto target_error = [&](CK_RV code, const std::string& step) -> Error {
      if (auto refused = not_trusted(code)) return *refused;
      Error e = s.fail(code, step);
      if (from_cache && (code == CKR_KEY_HANDLE_INVALID || code == CKR_OBJECT_HANDLE_INVALID))
        stale_handle = true;
      if (code == CKR_KEY_NOT_WRAPPABLE || code == CKR_KEY_TYPE_INCONSISTENT ||
          code == CKR_FUNCTION_NOT_SUPPORTED || code == CKR_KEY_UNEXTRACTABLE) {
        return Error{
            code == CKR_KEY_UNEXTRACTABLE ? ErrorKind::PermissionDenied : ErrorKind::Unsupported,
            "this HSM cannot wrap " + what + " keys (" + e.message + ")"};
      }
      return e;
    };
    auto learned_sha256 = [&] {
      if (spec.hash == OaepHash::Sha256) oaep_sha256_.store(1);
    };

    std::vector<std::uint8_t> out;
    if (spec.method == WrapMethod::RsaOaep) {
      CK_MECHANISM mech{CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
      rv = wrap_once(s.fn(), s.handle(), &mech, kek_h, found.value().handle, out);
      if (rv != CKR_OK) return oaep_error(rv, "C_WrapKey(CKM_RSA_PKCS_OAEP, " + what + ")");
      learned_sha256();
      return out;
    }
    if (native) {
      RsaAesKeyWrapParams params{256, &oaep};
      CK_MECHANISM mech{CKM_RSA_AES_KEY_WRAP, &params, sizeof params};
      rv = wrap_once(s.fn(), s.handle(), &mech, kek_h, found.value().handle, out);
      if (rv == CKR_KEY_NOT_WRAPPABLE || rv == CKR_KEY_TYPE_INCONSISTENT)
        return target_error(rv, "C_WrapKey(CKM_RSA_AES_KEY_WRAP, " + what + ")");
      if (rv != CKR_OK) return oaep_error(rv, "C_WrapKey(CKM_RSA_AES_KEY_WRAP, " + what + ")");
      learned_sha256();
      return out;
    }

    // Composed CKM_RSA_AES_KEY_WRAP: the ephemeral key never leaves the HSM unwrapped.
    Template et;
    et.ulong(CKA_CLASS, CKO_SECRET_KEY)
        .ulong(CKA_KEY_TYPE, CKK_AES)
        .ulong(CKA_VALUE_LEN, 32)
        .flag(CKA_TOKEN, false)
        .flag(CKA_PRIVATE, true)
        .flag(CKA_SENSITIVE, true)
        .flag(CKA_EXTRACTABLE, true)
        .flag(CKA_WRAP, true)
        .flag(CKA_ENCRYPT, false)
        .flag(CKA_DECRYPT, false);
    CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
    CK_OBJECT_HANDLE eph = CK_INVALID_HANDLE;
    rv = s.fn()->C_GenerateKey(s.handle(), &gen, et.data(), et.size(), &eph);
    if (rv != CKR_OK) return s.fail(rv, "generating the ephemeral AES-256 key");
    ObjectGuard eph_guard(s.fn(), s.handle(), eph);

    std::vector<std::uint8_t> wrapped_target;
    CK_MECHANISM kwp_mech{*kwp, nullptr, 0};
    rv = wrap_once(s.fn(), s.handle(), &kwp_mech, eph, found.value().handle, wrapped_target);
    if (rv != CKR_OK)
      return target_error(
          rv, std::string("C_WrapKey(") +
                  (*kwp == CKM_AES_KEY_WRAP_KWP ? "CKM_AES_KEY_WRAP_KWP" : "CKM_AES_KEY_WRAP_PAD") +
                  ", " + what + ")");
    CK_MECHANISM oaep_mech{CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
    rv = wrap_once(s.fn(), s.handle(), &oaep_mech, kek_h, eph, out);
    if (rv != CKR_OK) return oaep_error(rv, "C_WrapKey(CKM_RSA_PKCS_OAEP, ephemeral AES key)");
    learned_sha256();
    out.insert(out.end(), wrapped_target.begin(), wrapped_target.end());
    return out;
  };
  auto result = pool_->run(attempt);
  if (!result.ok() && stale_handle) {
    forget(target);
    stale_handle = false;
    result = pool_->run(attempt);
  }
  return result;
}

}  // namespace byok::hsm
