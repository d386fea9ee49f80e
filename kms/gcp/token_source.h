#pragma once
// OAuth2 access tokens for a service account: a signed JWT grant (service_account.h) POSTed to
// the key's token_uri, the answer's access_token cached until shortly before it expires.
//
// Guarantees: one token request at a time (concurrent callers wait for it and share the result);
// a token is never handed out within `refresh_margin` of its expiry (or half its lifetime, when
// that is shorter); failures name the call ("GCP OAuth2 token: invalid_grant: ... (HTTP 400)")
// and map RFC 6749 error codes (invalid_grant -> Unauthenticated, ...). The grant is retried
// like an idempotent read: it creates nothing.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kms/retry.h"
#include "kms/gcp/service_account.h"
#include "kms/http_transport.h"

namespace byok::kms::gcp {

class ServiceAccountTokenSource {
 public:
  // The transport and clock are borrowed and must outlive the source.
  ServiceAccountTokenSource(ServiceAccountKey key, std::string scope, HttpTransport& transport,
                            const Clock& clock, RetryPolicy retry, RetryEnvironment env,
                            std::chrono::seconds refresh_margin = std::chrono::minutes(5));

  // A valid bearer token, from the cache or freshly granted.
  Result<std::string> access_token();
  // Forgets the cached token (the server refused it); the next call asks for a new one.
  void invalidate();

  const ServiceAccountKey& key() const { return key_; }

 private:
  Result<std::string> fetch();

  ServiceAccountKey key_;
  std::string scope_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryPolicy retry_;
  RetryEnvironment env_;
  std::chrono::seconds refresh_margin_;

  std::mutex mu_;
  std::string token_;
  std::optional<SystemTime> refresh_at_;
};

}  // namespace byok::kms::gcp
