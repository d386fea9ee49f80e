#include "kms/http_transport.h"

#include <cctype>
#include <map>
#include <mutex>

#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cpprest/http_client.h>
#include <pplx/threadpool.h>

#include "common/http_read.h"

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

namespace http = web::http;
namespace client = web::http::client;

class CpprestTransport final : public HttpTransport {
 public:
  explicit CpprestTransport(HttpTransportOptions options) : options_(std::move(options)) {}

  Result<HttpResponse> send(const HttpRequest& request) override {
    auto parts = parse_url(request.url);
    if (!parts) return parts.error().context(request.method + " " + request.url);
    // The base carries the port only when it is not the scheme's default, so the Host header
    // cpprestsdk derives from it is exactly UrlParts::authority(), which signers sign.
    std::string base = parts->scheme + "://" + parts->authority();
    std::string what = request.method + " " + base + parts->path;
    if (options_.url_guard)
      if (auto allowed = options_.url_guard(*parts); !allowed) return allowed.error().context(what);
    try {
      client::http_client& c = client_for(base);
      http::http_request req(request.method);
      req.set_request_uri(parts->path + (parts->query.empty() ? "" : "?" + parts->query));
      for (const auto& [name, value] : request.headers) {
        // cpprestsdk takes a given Host header for TLS server-name checks too, where a port
        // breaks them: leave Host to it, after checking it says what the URL says.
        if (iequals(name, "host")) {
          if (value != parts->authority())
            return make_error(ErrorKind::InvalidArgument,
                              what + ": Host header " + value + " does not match the URL");
          continue;
        }
        req.headers().add(name, value);
      }
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        // Bytes verbatim; Content-Type set above (when given) is kept.
        std::vector<unsigned char> bytes(request.body.begin(), request.body.end());
        req.set_body(std::move(bytes));
      }
      // The whole-request deadline: a timer on cpprestsdk's own I/O service cancels the request
      // (closing the connection) if the answer is not all here in time.
      pplx::cancellation_token_source cancel;
      boost::asio::steady_timer deadline(crossplat::threadpool::shared_instance().service(),
                                         options_.total_timeout);
      deadline.async_wait([cancel](const boost::system::error_code& ec) mutable {
        if (!ec) cancel.cancel();
      });
      Result<HttpResponse> out = make_error(ErrorKind::Unavailable, what + ": no answer");
      try {
        out = read_answer(c.request(req, cancel.get_token()).get(), what);
      } catch (const std::exception& e) {
        out = make_error(ErrorKind::Unavailable, what + ": " + e.what());
      }
      deadline.cancel();
      // Whatever the read ended with when the deadline cancelled it, the deadline is the cause.
      if (!out.ok() && cancel.get_token().is_canceled())
        return make_error(ErrorKind::Unavailable,
                          what + ": no whole answer within " +
                              std::to_string(options_.total_timeout.count()) +
                              " ms (KmsRequestTimeout)");
      // An answer not read to its end (over the cap, broken) is abandoned by closing the
      // connection: cpprestsdk would otherwise go on buffering the rest in the background.
      if (!out.ok()) cancel.cancel();
      return out;
    } catch (const std::exception& e) {
      return make_error(ErrorKind::Unavailable, what + ": " + e.what());
    }
  }

 private:
  Result<HttpResponse> read_answer(const http::http_response& resp, const std::string& what) {
    {  // may throw: the caller turns it into an error
      HttpResponse out;
      out.status = resp.status_code();
      for (const auto& [name, value] : resp.headers()) out.headers.emplace_back(name, value);
      const std::size_t cap = options_.max_response_bytes;
      auto body = read_body_capped(resp, cap);
      if (!body)
        return make_error(ErrorKind::Internal, what + ": the answer is larger than " +
                                                   std::to_string(cap) +
                                                   " bytes (KmsResponseTooLarge); not read");
      out.body = std::move(*body);
      return out;
    }
  }

  client::http_client& client_for(const std::string& base) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(base);
    if (it != clients_.end()) return *it->second;
    client::http_client_config conf;
    conf.set_timeout(options_.timeout.count() > 0 ? options_.timeout
                                                  : std::chrono::milliseconds(30000));
    conf.set_validate_certificates(true);
    // Never a proxy from the environment: the endpoint checked is the one connected to.
    conf.set_proxy(web::web_proxy(web::web_proxy::disabled));
    std::string ca = options_.extra_ca_pem;
    conf.set_ssl_context_callback([ca](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
    });
    auto c = std::make_unique<client::http_client>(base, conf);
    auto& ref = *c;
    clients_.emplace(base, std::move(c));
    return ref;
  }

  HttpTransportOptions options_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<client::http_client>> clients_;
};

}  // namespace

std::string find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

std::unique_ptr<HttpTransport> make_cpprest_transport(HttpTransportOptions options) {
  return std::make_unique<CpprestTransport>(std::move(options));
}

std::string UrlParts::authority() const {
  bool default_port = port.empty() || (scheme == "https" && port == "443") ||
                      (scheme == "http" && port == "80");
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
    case 400: return ErrorKind::InvalidArgument;
    case 401: return ErrorKind::Unauthenticated;
    case 403: return ErrorKind::PermissionDenied;
    case 404: return ErrorKind::NotFound;
    case 409: return ErrorKind::Conflict;
    case 429: return ErrorKind::Throttled;
    default: return ErrorKind::Internal;
  }
}

}  // namespace byok::kms
