#include "kms/rest_call.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace byok::kms {

std::string body_snippet(const std::string& body) {
  std::string out;
  for (char c : body) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : (std::isprint(static_cast<unsigned char>(c)) ? c : '?');
    if (out.size() >= 200) return out + "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<std::string> send_with_retry(HttpTransport& transport, const HttpRequest& request,
                                    const std::string& what, bool idempotent,
                                    const RetryPolicy& policy,
                                    const RetryEnvironment& env, const ErrorReader& read) {
  const int max_attempts = idempotent ? std::max(1, policy.max_attempts) : 1;
  auto transient = [](const Error& e) {
    return e.kind == ErrorKind::Unavailable || e.kind == ErrorKind::Throttled;
  };
  Error last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    auto resp = transport.send(request);
    if (!resp) {
      last = resp.error().context(what);
    } else if (resp->status >= 200 && resp->status < 300) {
      return std::move(resp->body);
    } else {
      auto reading = read(*resp);
      last = Error{reading.kind, what + ": " + reading.text + " (HTTP " +
                                     std::to_string(resp->status) + ")"};
    }
    if (!transient(last) || attempt == max_attempts) break;
    auto cap = policy.base_delay * (1LL << std::min(attempt - 1, 20));
    if (cap > policy.max_delay) cap = policy.max_delay;
    // Equal jitter: at least half the exponential step, so retries never bunch at zero.
    env.sleep(std::chrono::milliseconds(
        static_cast<long long>(cap.count() / 2.0 + env.random01() * (cap.count() / 2.0))));
  }
  if (max_attempts > 1 && transient(last))
    last.message += " (gave up after " + std::to_string(max_attempts) + " attempts)";
  return last;
}

Result<PublicKeyDer> public_key_der_from_pem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return make_error(ErrorKind::Internal, "BIO_new_mem_buf failed");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return make_error(ErrorKind::Internal, "the wrapping key is not a PEM public key");
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return make_error(ErrorKind::Internal, "i2d_PUBKEY failed");
  PublicKeyDer out;
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  if (EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA) out.rsa_bits = EVP_PKEY_bits(key.get());
  return out;
}

}  // namespace byok::kms
