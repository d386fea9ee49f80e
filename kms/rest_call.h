#pragma once
// What the token-authenticated JSON REST clients (transit, thalassa) share: one request sent
// through HttpTransport with retries for idempotent calls, error answers turned into
// byok::Error by the provider's own reader, and the wrapping key's PEM turned into DER.

#include <functional>
#include <string>

#include "common/result.h"
#include "kms/retry.h"
#include "kms/http_transport.h"

namespace byok::kms {

// Reads a non-2xx answer: the error kind and the provider's words (without the call's name).
struct ErrorReading {
  ErrorKind kind = ErrorKind::Internal;
  std::string text;
};
using ErrorReader = std::function<ErrorReading(const HttpResponse&)>;

// Sends `request` and returns the 2xx answer's body. Failures read "<what>: <text> (HTTP n)",
// or "<what>: <transport's reason>". When `idempotent`, an Unavailable or Throttled failure is
// tried again up to policy.max_attempts times with equal-jitter exponential backoff (the last
// error then says how many attempts were made); otherwise the request is sent once.
Result<std::string> send_with_retry(HttpTransport& transport, const HttpRequest& request,
                                    const std::string& what, bool idempotent,
                                    const RetryPolicy& policy,
                                    const RetryEnvironment& env, const ErrorReader& read);

// A non-JSON body shortened to one printable line, for error messages.
std::string body_snippet(const std::string& body);

// A PEM public key as SubjectPublicKeyInfo DER, and its RSA modulus size in bits (0: not RSA).
struct PublicKeyDer {
  std::string der;
  int rsa_bits = 0;
};
Result<PublicKeyDer> public_key_der_from_pem(const std::string& pem);

}  // namespace byok::kms
