#pragma once
// A Google service account's JSON key and the signed JWT that trades it for an OAuth2 access
// token (RFC 7523 JWT bearer grant, as Google's "OAuth 2.0 for server to server applications"
// describes it).
//
// The grant: header {"alg":"RS256","typ":"JWT","kid":<private_key_id>}; claims {"iss" and "sub":
// client_email, "scope", "aud": token_uri, "iat": now, "exp": now + lifetime (at most 1 h)};
// signature RSASSA-PKCS1-v1_5 with SHA-256 over base64url(header) "." base64url(claims), all
// base64url without padding.

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace byok::kms::gcp {

inline constexpr const char* kDefaultTokenUri = "https://oauth2.googleapis.com/token";
inline constexpr const char* kCloudKmsScope = "https://www.googleapis.com/auth/cloudkms";
inline constexpr const char* kJwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct ServiceAccountKey {
  std::string project_id;
  std::string private_key_id;
  std::string private_key_pem;  // PKCS#8 PEM, as Google issues it
  std::string client_email;
  std::string client_id;
  std::string token_uri;  // kDefaultTokenUri when the file has none
};

// Parses the key file ("type": "service_account"). InvalidArgument names what is wrong (missing
// client_email or private_key, a private key that is not an RSA key, not JSON at all) and never
// echoes the key.
Result<ServiceAccountKey> parse_service_account_key(std::string_view text);

// RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature of `data` with a PEM RSA private key.
Result<std::string> rs256_sign(std::string_view private_key_pem, std::string_view data);

// The signed JWT for the bearer grant ("header.claims.signature").
Result<std::string> make_jwt_assertion(const ServiceAccountKey& key, std::string_view scope,
                                       SystemTime now,
                                       std::chrono::seconds lifetime = std::chrono::hours(1));

}  // namespace byok::kms::gcp
