// bench_hsm_wrap [--iterations N] [--rounds R] [--target aes256-gcm96|rsa-2048|ecdsa-p256]
//                [--kek-bits 2048|3072|4096]
// Compares Pkcs11Hsm::wrap_key (pool, key lookup, KEK import, composed CKM_RSA_AES_KEY_WRAP)
// with a raw PKCS#11 loop doing the same mechanisms on one session and a cached target handle:
// C_CreateObject(KEK), C_GenerateKey(ephemeral AES-256), C_WrapKey(CKM_AES_KEY_WRAP_PAD),
// C_WrapKey(CKM_RSA_PKCS_OAEP), two C_DestroyObject. Rounds alternate the two so drift in a
// shared machine hits both. Goal: library >= 90% of raw.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hsm/kek.h"
#include "hsm/pkcs11_objects.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"

namespace {

using byok::hsm::KeyType;
using Clock = std::chrono::steady_clock;

bool raw_wrap_once(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE target,
                   const byok::hsm::Kek& kek, std::vector<std::uint8_t>& out) {
  byok::hsm::Template kt;
  kt.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .ulong(CKA_KEY_TYPE, CKK_RSA)
      .flag(CKA_TOKEN, false)
      .flag(CKA_WRAP, true)
      .bytes(CKA_MODULUS, kek.modulus)
      .bytes(CKA_PUBLIC_EXPONENT, kek.public_exponent);
  CK_OBJECT_HANDLE kek_h, eph;
  if (fn->C_CreateObject(s, kt.data(), kt.size(), &kek_h) != CKR_OK) return false;
  byok::hsm::Template et;
  et.ulong(CKA_CLASS, CKO_SECRET_KEY)
      .ulong(CKA_KEY_TYPE, CKK_AES)
      .ulong(CKA_VALUE_LEN, 32)
      .flag(CKA_TOKEN, false)
      .flag(CKA_SENSITIVE, true)
      .flag(CKA_EXTRACTABLE, true)
      .flag(CKA_WRAP, true);
  CK_MECHANISM gen{CKM_AES_KEY_GEN, nullptr, 0};
  bool ok = fn->C_GenerateKey(s, &gen, et.data(), et.size(), &eph) == CKR_OK;
  if (ok) {
    out.resize(8192);
    CK_ULONG len = out.size();
    CK_MECHANISM kwp{CKM_AES_KEY_WRAP_PAD, nullptr, 0};
    ok = fn->C_WrapKey(s, &kwp, eph, target, out.data(), &len) == CKR_OK;
    CK_RSA_PKCS_OAEP_PARAMS p{CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, nullptr, 0};
    CK_MECHANISM oaep{CKM_RSA_PKCS_OAEP, &p, sizeof p};
    std::vector<std::uint8_t> head(1024);
    CK_ULONG hlen = head.size();
    ok = ok && fn->C_WrapKey(s, &oaep, kek_h, eph, head.data(), &hlen) == CKR_OK;
    fn->C_DestroyObject(s, eph);
  }
  fn->C_DestroyObject(s, kek_h);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 300, rounds = 4;
  unsigned kek_bits = 2048;
  std::string target = "aes256-gcm96";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--iterations")
      iterations = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--rounds")
      rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--kek-bits")
      kek_bits = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (a == "--target")
      target = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  auto type = byok::hsm::parse_key_type(target);
  if (!type || *type == KeyType::Ed25519 || *type == KeyType::Chacha20Poly1305) {
    std::fprintf(stderr, "--target must be an AES, RSA or ECDSA type SoftHSM can wrap\n");
    return 2;
  }

  byok::hsm::test::TestToken token("bench");
  auto hsm = token.open_hsm(1);  // one session: the raw loop has one too
  if (!hsm->generate_key({*type, "target", ""}).ok()) return 1;
  auto kek_key = byok::hsm::test::generate_rsa(kek_bits);
  auto kek_der = byok::hsm::test::public_der(kek_key.get());
  auto kek = byok::hsm::parse_kek(kek_der);
  const byok::hsm::WrapSpec spec{byok::hsm::WrapMethod::RsaAesKeyWrap, byok::hsm::OaepHash::Sha1,
                                 0};

  // The same library with its key-handle cache off (the handle is re-checked on every wrap).
  byok::hsm::Pkcs11Hsm::Options no_cache;
  no_cache.pool.max_sessions = 1;
  no_cache.key_cache_ttl = std::chrono::milliseconds(0);
  auto pin = byok::hsm::SecureBuffer(reinterpret_cast<const std::uint8_t*>(token.pin().data()),
                                     token.pin().size());
  auto checked =
      byok::hsm::Pkcs11Hsm::open(token.module(), token.label(), std::move(pin), no_cache);
  if (!checked.ok()) return 1;

  auto raw = token.raw_session();
  CK_OBJECT_HANDLE target_h = byok::hsm::test::find_object(
      *raw, byok::hsm::is_symmetric(*type) ? CKO_SECRET_KEY : CKO_PRIVATE_KEY, "target");
  std::vector<std::uint8_t> out;

  // Warm up both paths (first-use costs in SoftHSM and OpenSSL).
  for (int i = 0; i < 10; ++i) {
    (void)hsm->wrap_key(byok::hsm::KeyRef::label("target"), spec, kek_der);
    (void)checked.value()->wrap_key(byok::hsm::KeyRef::label("target"), spec, kek_der);
    raw_wrap_once(raw->fn(), raw->handle(), target_h, kek.value(), out);
  }

  double lib_s = 0, raw_s = 0, checked_s = 0;
  long lib_n = 0, raw_n = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      if (!hsm->wrap_key(byok::hsm::KeyRef::label("target"), spec, kek_der).ok()) {
        std::fprintf(stderr, "library wrap failed\n");
        return 1;
      }
    }
    auto t1 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      if (!raw_wrap_once(raw->fn(), raw->handle(), target_h, kek.value(), out)) {
        std::fprintf(stderr, "raw wrap failed\n");
        return 1;
      }
    }
    auto t2 = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      if (!checked.value()->wrap_key(byok::hsm::KeyRef::label("target"), spec, kek_der).ok()) {
        std::fprintf(stderr, "library wrap (no cache) failed\n");
        return 1;
      }
    }
    auto t3 = Clock::now();
    lib_s += std::chrono::duration<double>(t1 - t0).count();
    raw_s += std::chrono::duration<double>(t2 - t1).count();
    checked_s += std::chrono::duration<double>(t3 - t2).count();
    lib_n += iterations;
    raw_n += iterations;
  }
  double lib_rate = lib_n / lib_s, raw_rate = raw_n / raw_s;
  std::printf("bench_hsm_wrap: target %s, KEK RSA-%u, RSA-AES (OAEP SHA-1), %d x %d wraps each\n",
              target.c_str(), kek_bits, rounds, iterations);
  std::printf("  library (pool + lookup + composed wrap): %9.1f wraps/s  (%.1f us/wrap)\n",
              lib_rate, 1e6 / lib_rate);
  std::printf("  raw PKCS#11, same mechanisms:            %9.1f wraps/s  (%.1f us/wrap)\n",
              raw_rate, 1e6 / raw_rate);
  std::printf("  ratio library/raw: %.1f%% (goal >= 90%%)\n", 100.0 * lib_rate / raw_rate);
  double checked_rate = lib_n / checked_s;
  std::printf("  library, handle re-checked every wrap:   %9.1f wraps/s  (%.1f%% of raw)\n",
              checked_rate, 100.0 * checked_rate / raw_rate);
  return 0;
}
