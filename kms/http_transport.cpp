#include "kms/http_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <climits>
#include <map>
#include <mutex>
#include <optional>

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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Boost.Beast on Asio and OpenSSL (libraries the operator links anyway), because a KMS endpoint
// may be a tenant's: every read is bounded here (the answer's headers, its body, a stretch with
// no byte, the whole exchange) and an exchange is abandoned on the thread that runs it, where
// cpprestsdk could only close the socket from another thread (which crashed it now and then
// mid-read under TLS). libcurl did this before, at the cost of a dozen shared libraries in every
// process (Kerberos, LDAP, SSH, GnuTLS) that no KMS request used.

// One connection, with an io_context of its own: the thread that checked it out of the pool runs
// its operations, so a connection needs no strand and no thread of the transport's.
struct Connection {
  asio::io_context io;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  bool reused = false;

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
  // Runs one asynchronous operation to its end on this thread; its error, if any.
  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return result;
  }
  template <class F>
  auto with_stream(F f) {
    return tls ? f(*tls) : f(*plain);
  }
  // Whether the peer closed (or sent something unasked) while the connection sat idle.
  bool idle_and_open() {
    beast::error_code ec;
    auto& s = tcp().socket();
    if (!s.is_open()) return false;
    s.non_blocking(true, ec);
    char byte;
    std::size_t n = s.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    s.non_blocking(false, ec);
    (void)n;
    return ec == asio::error::would_block;
  }
};

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string unbracketed(const std::string& host) {
  return host.size() > 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
}

class AsioTransport final : public HttpTransport {
 public:
  explicit AsioTransport(HttpTransportOptions options)
      : options_(std::move(options)), tls_(asio::ssl::context::tls_client) {
    // TLS: peer and host name are always verified; an extra CA adds to the system's roots.
    tls_.set_verify_mode(asio::ssl::verify_peer);
    tls_.set_default_verify_paths();
    tls_.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                     asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::no_compression);
    if (!options_.extra_ca_pem.empty()) {
      beast::error_code ec;
      tls_.add_certificate_authority(
          asio::buffer(options_.extra_ca_pem.data(), options_.extra_ca_pem.size()), ec);
      if (ec) extra_ca_error_ = "the extra CA certificates do not load: " + ec.message();
    }
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    auto parts = parse_url(request.url);
    if (!parts) return parts.error().context(request.method + " " + request.url);
    const std::string origin = parts->scheme + "://" + parts->authority();
    const std::string what = request.method + " " + origin + parts->path;
    if (options_.url_guard)
      if (auto allowed = options_.url_guard(*parts); !allowed) return allowed.error().context(what);
    if (!extra_ca_error_.empty())
      return make_error(ErrorKind::InvalidArgument, what + ": " + extra_ca_error_);

    // The request is rebuilt from the URL as parsed and checked, so whatever another reader
    // might see in the original never reaches the wire; Host is UrlParts::authority(), which
    // signers sign.
    http::request<http::string_body> req;
    req.version(11);
    req.method_string(request.method);
    req.target(parts->path + (parts->query.empty() ? "" : "?" + parts->query));
    req.set(http::field::host, parts->authority());
    bool accept = false;
    for (const auto& [name, value] : request.headers) {
      // A value is a tenant's credential, organisation or a token server's answer: a line break
      // in it would start a header (or a request) of the tenant's making, a NUL would cut it.
      if ((name + value).find_first_of(std::string("\r\n\0", 3)) != std::string::npos ||
          name.empty() || name.find_first_of(" \t:") != std::string::npos)
        return make_error(ErrorKind::InvalidArgument,
                          what + ": header " + name +
                              " carries a line break or a NUL byte (a "
                              "credential with a trailing newline? store it without one)");
      if (iequals(name, "host")) {
        if (value != parts->authority())
          return make_error(ErrorKind::InvalidArgument,
                            what + ": Host header " + value + " does not match the URL");
        continue;
      }
      // The transport frames the body itself.
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
      accept = accept || iequals(name, "accept");
      req.insert(name, value);
    }
    if (!accept) req.set(http::field::accept, "*/*");
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      req.body() = request.body;
      req.content_length(request.body.size());
    }

    const auto deadline = SteadyClock::now() + options_.total_timeout;
    // A connection from the pool may have been closed by the peer since: one more try on a new
    // one, when nothing of an answer came back on the old (libcurl does the same).
    for (int attempt = 0;; ++attempt) {
      auto conn = attempt == 0 ? checkout(origin) : nullptr;
      if (!conn) {
        auto made = connect(*parts, what, deadline);
        if (!made) return made.error();
        conn = std::move(*made);
      }
      bool retry = false;
      auto result = exchange(conn, req, request.method == "HEAD", what, deadline, retry);
      if (!result && retry && attempt == 0) continue;
      if (result && conn) checkin(origin, std::move(conn));
      return result;
    }
  }

 private:
  static constexpr std::size_t kIdlePerOrigin = 4;

  std::chrono::milliseconds wait() const {
    return options_.timeout.count() > 0 ? options_.timeout : std::chrono::seconds(30);
  }
  // The time the next operation may take: `timeout` without a byte, never past the deadline.
  void arm(Connection& c, SteadyClock::time_point deadline) const {
    c.tcp().expires_at(std::min(SteadyClock::now() + wait(), deadline));
  }
  Error timed_out(const std::string& what, SteadyClock::time_point deadline,
                  const char* doing) const {
    if (SteadyClock::now() >= deadline)
      return make_error(ErrorKind::DeadlineExceeded,
                        what + ": no whole answer within " +
                            std::to_string(options_.total_timeout.count()) +
                            " ms (KmsRequestTimeout)");
    return make_error(ErrorKind::Unavailable, what + ": " + doing + ": nothing for " +
                                                  std::to_string(wait().count()) + " ms");
  }

  Result<std::unique_ptr<Connection>> connect(const UrlParts& url, const std::string& what,
                                              SteadyClock::time_point deadline) {
    auto c = std::make_unique<Connection>();
    const std::string host = unbracketed(url.host);
    const std::string port = url.port.empty() ? (url.scheme == "https" ? "443" : "80") : url.port;
    beast::error_code ec;
    tcp::resolver resolver(c->io);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec)
      return make_error(ErrorKind::Unavailable,
                        what + ": cannot resolve host name " + host + ": " + ec.message());
    if (url.scheme == "https")
      c->tls.emplace(c->io, tls_);
    else
      c->plain.emplace(c->io);
    arm(*c, deadline);
    ec = c->run([&](auto handler) { c->tcp().async_connect(endpoints, std::move(handler)); });
    if (ec == beast::error::timeout) return timed_out(what, deadline, "connecting");
    if (ec)
      return make_error(ErrorKind::Unavailable,
                        what + ": cannot connect to " + url.authority() + ": " + ec.message());
    beast::error_code nodelay;
    c->tcp().socket().set_option(tcp::no_delay(true), nodelay);
    if (c->tls) {
      SSL* ssl = c->tls->native_handle();
      // The certificate must name the host the URL names: a DNS name (also sent as SNI), or an
      // IP address in its subjectAltName.
      int named = is_ip_literal(host)
                      ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                      : SSL_set1_host(ssl, host.c_str()) &&
                            SSL_set_tlsext_host_name(ssl, const_cast<char*>(host.c_str()));
      if (named != 1)
        return make_error(ErrorKind::InvalidArgument,
                          what + ": cannot check a certificate for " + host);
      arm(*c, deadline);
      ec = c->run([&](auto handler) {
        c->tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
      });
      if (ec == beast::error::timeout) return timed_out(what, deadline, "TLS handshake");
      if (ec) {
        long verify = SSL_get_verify_result(ssl);
        std::string why =
            verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
        return make_error(ErrorKind::Unavailable,
                          what + ": TLS with " + url.authority() + " failed: " + why);
      }
    }
    return c;
  }

  Result<HttpResponse> exchange(std::unique_ptr<Connection>& c,
                                const http::request<http::string_body>& req, bool head,
                                const std::string& what, SteadyClock::time_point deadline,
                                bool& retry) {
    arm(*c, deadline);
    beast::error_code ec = c->with_stream([&](auto& stream) {
      return c->run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    });
    if (ec) {
      retry = c->reused && ec != beast::error::timeout;
      Error e = ec == beast::error::timeout
                    ? timed_out(what, deadline, "sending")
                    : make_error(ErrorKind::Unavailable, what + ": sending: " + ec.message());
      c.reset();
      return e;
    }
    beast::flat_buffer buffer;
    std::size_t header_bytes = 0;
    // Interim (1xx) answers are read past; only the final answer's headers are kept. Their
    // headers count towards the same cap.
    for (int interim = 0;; ++interim) {
      http::response_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
          options_.max_header_bytes - std::min(header_bytes, options_.max_header_bytes),
          UINT32_MAX)));
      parser.body_limit(options_.max_response_bytes);
      if (head) parser.skip(true);
      bool got_any = buffer.size() > 0;
      while (!parser.is_done()) {
        arm(*c, deadline);
        std::size_t before = buffer.size();
        ec = c->with_stream([&](auto& stream) {
          return c->run([&](auto handler) {
            http::async_read_some(stream, buffer, parser, std::move(handler));
          });
        });
        got_any = got_any || buffer.size() != before || parser.got_some();
        if (ec) break;
      }
      if (ec) {
        retry = c->reused && !got_any && ec != beast::error::timeout;
        c.reset();
        if (ec == http::error::body_limit)
          return make_error(ErrorKind::Internal, what + ": the answer is larger than " +
                                                     std::to_string(options_.max_response_bytes) +
                                                     " bytes (KmsResponseTooLarge); not read");
        if (ec == http::error::header_limit)
          return make_error(ErrorKind::Internal, what + ": the answer's headers are larger than " +
                                                     std::to_string(options_.max_header_bytes) +
                                                     " bytes (KmsResponseTooLarge); not read");
        if (ec == beast::error::timeout) return timed_out(what, deadline, "reading the answer");
        return make_error(ErrorKind::Unavailable, what + ": reading the answer: " + ec.message());
      }
      auto& res = parser.get();
      const int status = static_cast<int>(res.result_int());
      if (status >= 100 && status < 200 && status != 101 && interim < 8) {
        for (const auto& field : res)
          header_bytes += field.name_string().size() + field.value().size() + 4;
        continue;
      }
      HttpResponse out;
      out.status = status;
      for (const auto& field : res)
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      out.body = std::move(res.body());
      // Kept for the next request only when both sides may, and nothing unasked is left over.
      if (!res.keep_alive() || buffer.size() > 0 || status == 101) c.reset();
      return out;
    }
  }

  std::unique_ptr<Connection> checkout(const std::string& origin) {
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        std::lock_guard lock(mu_);
        auto it = idle_.find(origin);
        if (it == idle_.end() || it->second.empty()) return nullptr;
        c = std::move(it->second.back());
        it->second.pop_back();
      }
      if (c->idle_and_open()) {
        c->reused = true;
        return c;
      }
    }
  }
  void checkin(const std::string& origin, std::unique_ptr<Connection> c) {
    c->tcp().expires_never();
    std::lock_guard lock(mu_);
    auto& list = idle_[origin];
    if (list.size() < kIdlePerOrigin) list.push_back(std::move(c));
  }

  HttpTransportOptions options_;
  asio::ssl::context tls_;
  std::string extra_ca_error_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace

std::string find_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

std::unique_ptr<HttpTransport> make_http_transport(HttpTransportOptions options) {
  return std::make_unique<AsioTransport>(std::move(options));
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
