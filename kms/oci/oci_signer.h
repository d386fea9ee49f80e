#pragma once
// OCI API request signatures, version 1 (Oracle Cloud Infrastructure documentation, "Request
// Signatures"): draft-cavage-http-signatures-08 in the Authorization header,
//
//   Signature version="1",headers="date (request-target)
//   host",keyId="<tenancy>/<user>/<fingerprint>",
//             algorithm="rsa-sha256",signature="<base64 RSA-SHA256 of the signing string>"
//
// The signing string is one "name: value" line per signed header, in the order the headers
// parameter lists them, joined by "\n" (no trailing newline). "(request-target)" is the lower-case
// method, a space and the path with its query as sent. GET and DELETE sign
// "date (request-target) host"; POST, PUT and PATCH also "content-length content-type
// x-content-sha256", where x-content-sha256 is the base64 SHA-256 of the body (of the empty body
// too). The server refuses a Date more than 5 minutes off its clock (401 NotAuthenticated).
//
// Time is passed in; nothing here reads a clock.

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "common/clock.h"
#include "common/result.h"
#include "kms/http_transport.h"

namespace byok::kms::oci {

// The headers OCI requires to be signed for `method`, space-separated and in signing order.
std::string signed_header_names(std::string_view method);

// IMF-fixdate (RFC 7231), as the Date header carries it: "Thu, 05 Jan 2014 21:31:40 GMT".
std::string http_date(SystemTime t);

// Base64 of the SHA-256 of `body`: the x-content-sha256 header's value.
std::string content_sha256(std::string_view body);

// The signing string for `signed_headers` (space-separated names, lower case), taking each
// header's value from `headers` (looked up case-insensitively) and (request-target) from
// `method` and `target` (path and query as sent). InvalidArgument when a named header is absent.
Result<std::string> signing_string(std::string_view method, std::string_view target,
                                   const HttpHeaders& headers, std::string_view signed_headers);

// Signs with a user's API signing key. Copies share the key; safe to use from several threads.
class RequestSigner {
 public:
  // `key_id` is "<tenancy OCID>/<user OCID>/<key fingerprint>". The key is an RSA private key in
  // PEM (PKCS #1 or PKCS #8, encrypted or not). InvalidArgument when the PEM cannot be read with
  // `passphrase` (never prompts) or holds another kind of key.
  static Result<RequestSigner> create(std::string key_id, std::string_view private_key_pem,
                                      std::string_view passphrase = {});

  const std::string& key_id() const { return key_id_; }

  // Base64 RSA-SHA256 (RSASSA-PKCS1-v1_5) signature of `data`.
  Result<std::string> sign_string(std::string_view data) const;

  // Sets date to `now`, then authorize().
  Status sign(HttpRequest& request, SystemTime now) const;

  // Signs the request with the date header it already has: sets host (the URL's authority) and,
  // for POST/PUT/PATCH, content-length, content-type (application/json unless given) and
  // x-content-sha256, then authorization; earlier values of those headers are replaced.
  // InvalidArgument when there is no date header.
  Status authorize(HttpRequest& request) const;

 private:
  RequestSigner(std::string key_id, std::shared_ptr<EVP_PKEY> key)
      : key_id_(std::move(key_id)), key_(std::move(key)) {}

  std::string key_id_;
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace byok::kms::oci
