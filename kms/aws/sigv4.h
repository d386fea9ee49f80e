#pragma once
// AWS Signature Version 4 (header-based): canonical request, string to sign, the HMAC-SHA256
// signing-key chain, and the Authorization header. Time is passed in; nothing here reads a clock.
//
// What the signer assumes:
// - the path it is given is the request path as sent (for KMS and STS always "/"); each segment
//   is URI-encoded once for the canonical request, as the published test suite expects for
//   non-S3 services whose paths are sent unencoded;
// - every header it is given is signed, so the caller passes only headers it will send unchanged
//   (never hop-by-hop ones a proxy may rewrite); Host is added from the URL when missing.

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "kms/http_transport.h"

namespace byok::kms::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys; sent as X-Amz-Security-Token
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "kms", "sts"
};

// Everything the signer derived, for tests and for debugging a SignatureDoesNotMatch.
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header's value
  std::string amz_date;        // "20150830T123600Z"
};

// Signs a request given by parts. `headers` must already hold every header to sign; the
// function adds nothing to them (see sign_request for that).
Signature sign_parts(std::string_view method, std::string_view path, std::string_view query,
                     const HttpHeaders& headers, std::string_view payload,
                     const Credentials& credentials, const SigningScope& scope, SystemTime now);

// Adds Host (when missing), X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization to `request`, replacing earlier values of those it sets.
Status sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                    SystemTime now);

// Building blocks, exposed for the published-vector tests.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string derive_signing_key(std::string_view secret, std::string_view date_stamp,
                               std::string_view region, std::string_view service);
std::string hex_encode(std::string_view bytes);
std::string amz_date(SystemTime t);  // "YYYYMMDDTHHMMSSZ"

}  // namespace byok::kms::aws
