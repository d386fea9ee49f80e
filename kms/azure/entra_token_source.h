#pragma once
// Microsoft Entra ID (Azure AD) access tokens for Key Vault, from the v2.0 token endpoint with
// the OAuth 2.0 client-credentials grant:
//
//   POST {authorityHost}/{tenantId}/oauth2/v2.0/token
//   Content-Type: application/x-www-form-urlencoded
//   grant_type=client_credentials&client_id=<clientId>&scope=<resource>/.default
//     &client_secret=<clientSecret>                          (an app registration's secret), or
//     &client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//     &client_assertion=<contents of tokenFile>               (workload identity federation)
//   -> 200 {"token_type":"Bearer","expires_in":3599,"access_token":"<JWT>"}
//   -> 4xx {"error":"invalid_client","error_description":"AADSTS7000215: ...","error_codes":[...]}
//
// Guarantees:
// - token() hands out the cached token until shortly before it expires (5 minutes, or half the
//   lifetime of a token that lives less than 10 minutes), then fetches a new one; invalidate()
//   drops it (after the vault refused it). Safe to call from several threads.
// - the federated token file is read again on every fetch: the kubelet rotates it in place.
// - one request per fetch, no retry here: the Key Vault client's retry loop covers transient
//   failures of the whole call, token included.
// - messages name the call, the tenant and client, and Entra's error
//   ("Entra token (tenant t, client c): invalid_client: AADSTS7000215: Invalid client secret
//   provided. (HTTP 401)"); the secret and the assertion never appear in a message.

#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kms/rest_call.h"

namespace byok::kms::azure {

inline constexpr const char* kDefaultAuthorityHost = "https://login.microsoftonline.com";

struct EntraCredentials {
  std::string tenant_id;      // directory (tenant) id or a verified domain
  std::string client_id;      // application (client) id
  std::string client_secret;  // one of client_secret and token_file
  std::string token_file;     // path of a federated (projected service-account) token
  std::string authority_host = kDefaultAuthorityHost;
};

struct AccessToken {
  std::string value;  // the bearer token
  SystemTime expires;
};

// The claims of an Entra access token that name the caller. Entra signs the token for the
// resource, not for us: these are read, not verified (the vault verifies them).
struct TokenClaims {
  std::string object_id;  // oid: the service principal's (or managed identity's) object id
  std::string app_id;     // appid (v1.0 tokens) or azp (v2.0 tokens): the client id
  std::string tenant_id;  // tid
};
// InvalidArgument when `jwt` is not three base64url parts with a JSON object in the middle.
Result<TokenClaims> access_token_claims(const std::string& jwt);

// Maps an Entra token endpoint error (`error` member) and HTTP status to an ErrorKind.
ErrorKind entra_error_kind(const std::string& error, int http_status);
// The token endpoint's error answer as send_call's reader wants it: "<error>: <first line of
// error_description>", kind from entra_error_kind().
ErrorReading read_entra_error(const HttpResponse& response);

class EntraTokenSource {
 public:
  // `scope` is "<resource>/.default" (key_vault_scope()). The transport and clock are borrowed
  // and must outlive the source. A fetch is retried by `retry` on throttling and 5xx (the
  // vault's own policy: a token is part of the call that needs it).
  EntraTokenSource(EntraCredentials credentials, std::string scope, HttpTransport& transport,
                   const Clock& clock, RetryPolicy retry = {},
                   RetryEnvironment env = default_retry_environment());

  Result<AccessToken> token();
  void invalidate();

  const EntraCredentials& credentials() const { return credentials_; }
  const std::string& scope() const { return scope_; }
  // {authorityHost}/{tenantId}/oauth2/v2.0/token
  std::string token_url() const;

 private:
  Result<AccessToken> fetch();

  EntraCredentials credentials_;
  std::string scope_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryPolicy retry_;
  RetryEnvironment env_;
  std::mutex mu_;
  std::optional<AccessToken> cached_;
  SystemTime refresh_at_{};
};

}  // namespace byok::kms::azure
