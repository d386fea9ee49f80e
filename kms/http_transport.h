#pragma once
// The one door KMS clients use to the network, so a client can be unit-tested with a fake that
// records requests and plays answers back.
//
// Contract: send() returns every HTTP answer it receives, whatever its status, as an HttpResponse;
// an Error (kind Unavailable) means no answer came: connection refused, TLS failure, timeout.
// Interpreting statuses is the client's business, because each provider words its errors
// differently.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace byok::kms {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match, or empty.
std::string find_header(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string url;     // absolute: scheme://host[:port]/path[?query]
  HttpHeaders headers;
  std::string body;  // bytes, sent verbatim
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;  // bytes, as received
  std::string header(std::string_view name) const { return find_header(headers, name); }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// Pieces of an absolute URL, as the signers need them. The path is kept as written (encoded).
struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // as written, without port
  std::string port;    // empty when absent
  std::string path;    // "/" when absent
  std::string query;   // without '?', empty when absent
  // host, plus ":port" when the port is not the scheme's default: the Host header's value.
  std::string authority() const;
};
Result<UrlParts> parse_url(std::string_view url);

struct HttpTransportOptions {
  // Connecting, and any stretch this long in which less than a byte a second arrives.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // PEM certificates trusted in addition to the system store (a private endpoint's CA, a test
  // server's self-signed certificate). Certificate and host-name verification is always on.
  std::string extra_ca_pem;
  // Checked before every connection, with the URL as parsed for connecting (see
  // endpoint_policy.h); null: any URL. Redirects are never followed and no proxy is used, so
  // the host checked is the host the request goes to.
  std::function<Status(const UrlParts&)> url_guard = nullptr;
  // KMS answers are a few KiB (the largest, a page of 1000 AWS key ids, about 100 KiB); a larger
  // body (a hostile or broken endpoint) is refused before it is buffered whole (error kind
  // Internal, "KmsResponseTooLarge"). 1 MiB also bounds what parsing one answer can cost.
  std::size_t max_response_bytes = 1024 * 1024;
  // The answer's status line and headers together (a peer sending one endless header).
  std::size_t max_header_bytes = 64 * 1024;
  // The whole request, answer included: a peer that drips a byte at a time cannot hold a worker
  // longer than this (error kind DeadlineExceeded, "KmsRequestTimeout").
  std::chrono::milliseconds total_timeout{std::chrono::seconds(60)};
};

// Boost.Beast-backed transport (Asio, OpenSSL). Safe to use from several threads; connections are
// reused across requests. Headers given in the request are sent as given, except Host: the
// transport sends UrlParts::authority() of the URL (host, and the port unless it is the scheme's
// default), which is what signers sign; a request whose Host header says otherwise is refused
// (InvalidArgument). No proxy, no redirects, HTTP/1.1, no compression asked for.
std::unique_ptr<HttpTransport> make_http_transport(HttpTransportOptions options = {});

// The error kind an HTTP status means when the provider's answer says nothing more specific:
// 400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 409 Conflict,
// 429 Throttled, 5xx Unavailable, anything else Internal. Clients read their provider's error
// codes first and fall back to this.
ErrorKind error_kind_for_http_status(int status);

}  // namespace byok::kms
