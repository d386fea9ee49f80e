#pragma once
// Google's error answers, read and mapped onto byok::ErrorKind.
//
// Cloud KMS (and every Google REST API) answers errors as
//   {"error": {"code": 404, "message": "...", "status": "NOT_FOUND", "details": [...]}}
// where `status` is the google.rpc.Code name. The OAuth2 token endpoint answers RFC 6749 errors:
//   {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}

#include <string>

#include "common/result.h"
#include "kms/http_transport.h"
#include "kms/rest_call.h"

namespace byok::kms::gcp {

struct GoogleError {
  std::string status;   // NOT_FOUND, ... (or the OAuth2 error code); empty when absent
  std::string message;  // Google's message; empty when absent
};

// google.rpc.Code name (+ HTTP status as a fallback) -> ErrorKind.
ErrorKind google_error_kind(const std::string& status, int http_status);
// RFC 6749 section 5.2 error code (+ HTTP status as a fallback) -> ErrorKind.
ErrorKind oauth_error_kind(const std::string& code, int http_status);

// Reads either shape; a body that is neither (a proxy's HTML page) comes back as a one-line
// snippet in `message`.
GoogleError parse_google_error(const std::string& body);

// ErrorReaders (kms/rest_call.h): "<STATUS>: <message>" with the kind from google_error_kind,
// or from oauth_error_kind for the token endpoint.
ErrorReading read_google_error(const HttpResponse& response);
ErrorReading read_oauth_error(const HttpResponse& response);

}  // namespace byok::kms::gcp
