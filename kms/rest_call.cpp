#include "kms/rest_call.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/retry_after.h"

namespace byok::kms {

std::string printable_line(const std::string& text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : (std::isprint(static_cast<unsigned char>(c)) ? c : '?');
    if (out.size() >= limit) return out + "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string body_snippet(const std::string& body) { return printable_line(body, 200); }

std::optional<std::chrono::seconds> retry_after(const HttpResponse& response) {
  return parse_retry_after(response.header("Retry-After"));
}

namespace {
// Narrower than the reconcile's policy (byok::transient): a quick retry inside one call is for
// a blip. A DeadlineExceeded call already spent its whole budget, and an Internal (an answer
// nobody expected) is not cured in 100 ms; both are left to the work queue's backoff.
bool retried_in_call(const Error& e) {
  return e.kind == ErrorKind::Unavailable || e.kind == ErrorKind::Throttled;
}

// Every failure leaves as one printable, bounded line, whichever part a hostile server wrote:
// its error text, a header it answered with (OCI's request id), a token server's words, the TLS
// library's view of its certificate.
Error safe(Error e) {
  e.message = printable_line(e.message, 1000);
  return e;
}
}  // namespace

Result<HttpResponse> send_call(HttpTransport& transport, const std::string& what,
                               const CallOptions& options, const RetryPolicy& policy,
                               const RetryEnvironment& env, const ErrorReader& read) {
  const int max_attempts = options.idempotent ? std::max(1, policy.max_attempts) : 1;
  bool renewed = false;
  Error last;
  int attempt = 1;
  for (;; ++attempt) {
    std::optional<std::chrono::seconds> asked;  // the KMS's Retry-After
    auto request = options.build();
    // Signing or a token failed: the token sources retry on their own, so a second loop here
    // would multiply their requests (and their waits).
    if (!request) return safe(request.error().context(what));
    auto resp = transport.send(*request);
    const std::string note =
        options.annotate ? printable_line(options.annotate(*request, resp ? &*resp : nullptr), 100)
                         : "";
    if (!resp) {
      last = resp.error().context(what);
      if (!note.empty()) last.message += " (" + note + ")";
    } else if (resp->status >= 200 && resp->status < 300) {
      return std::move(*resp);
    } else if (resp->status == 401 && options.renew_credentials && !renewed) {
      renewed = true;
      options.renew_credentials();
      --attempt;
      continue;
    } else {
      auto reading = read(*resp);
      std::string text = printable_line(reading.text);  // the KMS's words: 300 characters
      last = Error{reading.kind, what + ": " + (text.empty() ? "no message" : text) + " (HTTP " +
                                     std::to_string(resp->status) +
                                     (note.empty() ? "" : ", " + note) + ")"};
      asked = retry_after(*resp);
      last.retry_after = asked;  // the work queue honours it if the retries here end first
    }
    if (!retried_in_call(last) || attempt >= max_attempts) break;
    if (asked && *asked > policy.max_delay) {
      last.message += " (the KMS asked to retry after " + std::to_string(asked->count()) + " s)";
      return safe(std::move(last));
    }
    auto cap = policy.base_delay * (1LL << std::min(attempt - 1, 20));
    if (cap > policy.max_delay) cap = policy.max_delay;
    // Equal jitter: at least half the exponential step, so retries never bunch at zero.
    auto delay = std::chrono::milliseconds(
        static_cast<long long>(cap.count() / 2.0 + env.random01() * (cap.count() / 2.0)));
    if (asked && *asked > delay)
      delay = std::chrono::duration_cast<std::chrono::milliseconds>(*asked);
    env.sleep(delay);
    if (waiting_stopped()) {
      last.message += " (not retried: the operator is stopping)";
      return safe(std::move(last));
    }
  }
  if (max_attempts > 1 && retried_in_call(last))
    last.message += " (gave up after " + std::to_string(max_attempts) + " attempts)";
  return safe(std::move(last));
}

Result<std::string> send_with_retry(HttpTransport& transport, const HttpRequest& request,
                                    const std::string& what, bool idempotent,
                                    const RetryPolicy& policy, const RetryEnvironment& env,
                                    const ErrorReader& read) {
  CallOptions options;
  options.idempotent = idempotent;
  options.build = [&request]() -> Result<HttpRequest> { return request; };
  auto resp = send_call(transport, what, options, policy, env, read);
  if (!resp) return resp.error();
  return std::move(resp->body);
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
