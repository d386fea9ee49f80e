#pragma once
// The one way a KMS client sends a request: each attempt built afresh (signed, with a current
// token, a new request id), idempotent calls retried on Unavailable and Throttled with
// equal-jitter exponential backoff (a Retry-After answer stretches the wait), a refused
// credential renewed once, and the provider's error answer read by its own reader into words
// that are safe to show (printable, bounded). Each provider keeps only its signing and its error
// reader.

#include <chrono>
#include <functional>
#include <optional>
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

struct CallOptions {
  // A read, or a write the KMS makes idempotent: retried when transient. Otherwise sent once.
  bool idempotent = false;
  // Builds one attempt's request; an error (signing, a token) ends the call.
  std::function<Result<HttpRequest>()> build;
  // Set when the KMS's credentials can be renewed: a 401 answer calls it and sends the request
  // once more (the KMS processed nothing, so this is safe for writes too), without using up an
  // attempt.
  std::function<void()> renew_credentials;
  // Words about the attempt that every failure carries (e.g. OCI's opc-request-id), given the
  // request and the answer (null when none came).
  std::function<std::string(const HttpRequest&, const HttpResponse*)> annotate;
};

// Sends the call and returns the 2xx answer. Failures read "<what>: <text> (HTTP n)", or
// "<what>: <transport's reason>", as one printable line of at most 1000 characters; after retries
// the last one says how many attempts were made. A Retry-After longer than policy.max_delay
// ends the retries at once (the Throttled error goes to the caller, whose work queue backs off
// instead of a worker sleeping), and the message says what the KMS asked.
Result<HttpResponse> send_call(HttpTransport& transport, const std::string& what,
                               const CallOptions& options, const RetryPolicy& policy,
                               const RetryEnvironment& env, const ErrorReader& read);

// send_call for a request that needs nothing per attempt; returns the body.
Result<std::string> send_with_retry(HttpTransport& transport, const HttpRequest& request,
                                    const std::string& what, bool idempotent,
                                    const RetryPolicy& policy, const RetryEnvironment& env,
                                    const ErrorReader& read);

// Text from a KMS (its error message, a proxy's page) as one printable line of at most `limit`
// characters: other bytes become '?', runs of whitespace one space.
std::string printable_line(const std::string& text, std::size_t limit = 300);
// A non-JSON body shortened to one printable line, for error messages.
std::string body_snippet(const std::string& body);

// A Retry-After header's delay (delta-seconds only; absent or unreadable: nullopt).
std::optional<std::chrono::seconds> retry_after(const HttpResponse& response);

// A PEM public key as SubjectPublicKeyInfo DER, and its RSA modulus size in bits (0: not RSA).
struct PublicKeyDer {
  std::string der;
  int rsa_bits = 0;
};
Result<PublicKeyDer> public_key_der_from_pem(const std::string& pem);

}  // namespace byok::kms
