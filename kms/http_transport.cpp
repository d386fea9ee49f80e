#include "kms/http_transport.h"

#include <cctype>
#include <mutex>

#include <curl/curl.h>

#include "common/file_read.h"

namespace byok::kms {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// libcurl, because a KMS endpoint may be a tenant's: it bounds what cpprestsdk cannot (response
// headers, a whole exchange's time) and abandons an answer by returning from a callback on the
// reading thread, where cpprestsdk could only close the socket from another thread, which
// crashes it now and then mid-read under TLS.
void curl_init_once() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

// The system's trust store as PEM, read once: a CA blob replaces curl's default store, so an
// extra CA is given together with it.
const std::string& system_roots_pem() {
  static const std::string pem = [] {
    std::string path = "/etc/ssl/certs/ca-certificates.crt";
    if (CURL* h = curl_easy_init()) {
      char* info = nullptr;
      if (curl_easy_getinfo(h, CURLINFO_CAINFO, &info) == CURLE_OK && info) path = info;
      curl_easy_cleanup(h);
    }
    auto pem = read_file_capped(path, 16 * 1024 * 1024);
    return pem ? *pem : std::string();
  }();
  return pem;
}

// What one exchange collects, with the caps its callbacks enforce.
struct Exchange {
  HttpResponse out;
  std::size_t max_body = 0, max_headers = 0, header_bytes = 0;
  bool body_too_large = false, headers_too_large = false;

  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) {
    auto& x = *static_cast<Exchange*>(self);
    const std::size_t len = size * n;
    x.header_bytes += len;
    if (x.header_bytes > x.max_headers) {
      x.headers_too_large = true;
      return 0;  // abort: libcurl ends the exchange on this thread
    }
    std::string_view line(data, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.rfind("HTTP/", 0) == 0) {
      x.out.headers.clear();  // a new status line (after a 1xx): only the final answer's headers
      return len;
    }
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      x.out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return len;
  }
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self) {
    auto& x = *static_cast<Exchange*>(self);
    const std::size_t len = size * n;
    if (x.out.body.size() + len > x.max_body) {
      x.body_too_large = true;
      return 0;
    }
    x.out.body.append(data, len);
    return len;
  }
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(HttpTransportOptions options) : options_(std::move(options)) {
    curl_init_once();
    if (!options_.extra_ca_pem.empty()) roots_ = system_roots_pem() + "\n" + options_.extra_ca_pem;
    // Connections are kept and reused across requests (and threads) through a share.
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(
        share_, CURLSHOPT_LOCKFUNC, +[](CURL*, curl_lock_data d, curl_lock_access, void* self) {
          static_cast<CurlTransport*>(self)->locks_[d].lock();
        });
    curl_share_setopt(
        share_, CURLSHOPT_UNLOCKFUNC, +[](CURL*, curl_lock_data d, void* self) {
          static_cast<CurlTransport*>(self)->locks_[d].unlock();
        });
  }
  ~CurlTransport() override { curl_share_cleanup(share_); }

  Result<HttpResponse> send(const HttpRequest& request) override {
    auto parts = parse_url(request.url);
    if (!parts) return parts.error().context(request.method + " " + request.url);
    // The URL sent is the one parsed and checked, rebuilt: whatever libcurl might read
    // differently in the original never reaches it. The Host header libcurl derives from it is
    // exactly UrlParts::authority(), which signers sign.
    std::string base = parts->scheme + "://" + parts->authority();
    std::string what = request.method + " " + base + parts->path;
    if (options_.url_guard)
      if (auto allowed = options_.url_guard(*parts); !allowed) return allowed.error().context(what);
    std::string url = base + parts->path + (parts->query.empty() ? "" : "?" + parts->query);

    struct curl_slist* headers = nullptr;
    bool content_type = false;
    for (const auto& [name, value] : request.headers) {
      // A value is a tenant's credential, organisation or a token server's answer: a line break
      // in it would start a header (or a request) of the tenant's making, a NUL would cut it.
      if ((name + value).find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        curl_slist_free_all(headers);
        return make_error(ErrorKind::InvalidArgument,
                          what + ": header " + name +
                              " carries a line break or a NUL byte (a "
                              "credential with a trailing newline? store it without one)");
      }
      // libcurl writes Host from the URL: a given one must agree with it.
      if (iequals(name, "host")) {
        if (value != parts->authority()) {
          curl_slist_free_all(headers);
          return make_error(ErrorKind::InvalidArgument,
                            what + ": Host header " + value + " does not match the URL");
        }
        continue;
      }
      content_type = content_type || iequals(name, "content-type");
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!content_type) headers = curl_slist_append(headers, "Content-Type:");  // none invented
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                             curl_slist_free_all);

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) return make_error(ErrorKind::Internal, what + ": cannot start a request");
    CURL* c = h.get();
    Exchange x;
    x.max_body = options_.max_response_bytes;
    x.max_headers = options_.max_header_bytes;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_SHARE, share_);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    }
    // Time: connecting, and any stretch of `timeout` in which less than a byte a second arrives,
    // fail as the network being down; the whole exchange may not outlast total_timeout.
    const long wait_ms =
        options_.timeout.count() > 0 ? static_cast<long>(options_.timeout.count()) : 30000L;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, wait_ms);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(1L, wait_ms / 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    // Size: a Content-Length over the cap is refused before the body; the callbacks cap the rest.
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_response_bytes));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Exchange::on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Exchange::on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    // TLS: peer and host name are always verified; an extra CA adds to the system's roots.
    if (!roots_.empty()) {
      curl_blob blob{roots_.data(), roots_.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    }

    CURLcode rc = curl_easy_perform(c);
    if (x.body_too_large || rc == CURLE_FILESIZE_EXCEEDED)
      return make_error(ErrorKind::Internal, what + ": the answer is larger than " +
                                                 std::to_string(options_.max_response_bytes) +
                                                 " bytes (KmsResponseTooLarge); not read");
    if (x.headers_too_large)
      return make_error(ErrorKind::Internal, what + ": the answer's headers are larger than " +
                                                 std::to_string(options_.max_header_bytes) +
                                                 " bytes (KmsResponseTooLarge); not read");
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      double total = 0;
      curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
      if (total * 1000 >= static_cast<double>(options_.total_timeout.count()) * 0.99)
        return make_error(ErrorKind::DeadlineExceeded,
                          what + ": no whole answer within " +
                              std::to_string(options_.total_timeout.count()) +
                              " ms (KmsRequestTimeout)");
    }
    if (rc != CURLE_OK)
      return make_error(ErrorKind::Unavailable,
                        what + ": " + (errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc)));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    x.out.status = static_cast<int>(status);
    return std::move(x.out);
  }

 private:
  HttpTransportOptions options_;
  std::string roots_;  // system roots + extra_ca_pem; empty: libcurl's default store
  CURLSH* share_ = nullptr;
  std::mutex locks_[CURL_LOCK_DATA_LAST];
};

}  // namespace

std::string find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

std::unique_ptr<HttpTransport> make_http_transport(HttpTransportOptions options) {
  return std::make_unique<CurlTransport>(std::move(options));
}

std::string UrlParts::authority() const {
  bool default_port =
      port.empty() || (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
  return default_port ? host : host + ":" + port;
}

Result<UrlParts> parse_url(std::string_view url) {
  UrlParts p;
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return make_error(ErrorKind::InvalidArgument, "not an absolute URL: " + std::string(url));
  for (char c : url.substr(0, sep))
    p.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (p.scheme != "http" && p.scheme != "https")
    return make_error(ErrorKind::InvalidArgument, "unsupported URL scheme: " + p.scheme);
  std::string_view rest = url.substr(sep + 3);
  auto path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  rest = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return make_error(ErrorKind::InvalidArgument, "URL has no usable host: " + std::string(url));
  if (authority.front() == '[') {  // IPv6 literal
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return make_error(ErrorKind::InvalidArgument, "bad IPv6 host in URL: " + std::string(url));
    p.host = std::string(authority.substr(0, close + 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      p.port = std::string(authority.substr(close + 2));
  } else {
    auto colon = authority.rfind(':');
    p.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) p.port = std::string(authority.substr(colon + 1));
  }
  for (char c : p.port)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return make_error(ErrorKind::InvalidArgument, "bad port in URL: " + std::string(url));
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto q = rest.find('?');
  p.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
  if (p.path.empty()) p.path = "/";
  return p;
}

ErrorKind error_kind_for_http_status(int status) {
  if (status >= 500) return ErrorKind::Unavailable;
  switch (status) {
    case 400:
      return ErrorKind::InvalidArgument;
    case 401:
      return ErrorKind::Unauthenticated;
    case 403:
      return ErrorKind::PermissionDenied;
    case 404:
      return ErrorKind::NotFound;
    case 409:
      return ErrorKind::Conflict;
    case 429:
      return ErrorKind::Throttled;
    default:
      return ErrorKind::Internal;
  }
}

}  // namespace byok::kms
