#include "kms/http_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <climits>
#include <condition_variable>
#include <thread>
#include <map>
#include <mutex>
#include <optional>

#include "common/text.h"

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
  SteadyClock::time_point idle_since{};

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
    if (ec) return false;
    char byte;
    s.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    beast::error_code restored;
    s.non_blocking(false, restored);
    return ec == asio::error::would_block && !restored;
  }
};

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// RFC 9110's token: what a method or a header name may be made of.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return false;
  return true;
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

  // Boost throws where a limit of its own is crossed (a field longer than 65535 bytes, a
  // socket that cannot be made): an error like any other failed exchange, never an exception.
  Result<HttpResponse> send(const HttpRequest& request) override {
    try {
      return send_checked(request);
    } catch (const std::exception& e) {
      return make_error(ErrorKind::Internal,
                        request.method + " " + request.url.substr(0, 200) + ": " + e.what());
    }
  }

 private:
  Result<HttpResponse> send_checked(const HttpRequest& request) {
    if (!is_token(request.method))
      return make_error(ErrorKind::InvalidArgument,
                        "not an HTTP method: \"" + request.method.substr(0, 40) + "\"");
    auto parts = parse_url(request.url);
    if (!parts) return parts.error().context(request.method + " " + request.url);
    const std::string origin = parts->scheme + "://" + ascii_lower(parts->authority());
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
      const bool control = std::any_of(value.begin(), value.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t') || c == 0x7f;
      });
      if (control || !is_token(name))
        return make_error(ErrorKind::InvalidArgument,
                          what + ": header " + name.substr(0, 80) +
                              " carries a line break, a NUL or another control byte (a "
                              "credential with a trailing newline? store it without one)");
      // Beast holds a field to 65535 bytes with its name; the header cap bounds it too.
      if (name.size() + value.size() > std::min<std::size_t>(options_.max_header_bytes, 65000))
        return make_error(
            ErrorKind::InvalidArgument,
            what + ": header " + name + " is longer than " +
                std::to_string(std::min<std::size_t>(options_.max_header_bytes, 65000)) + " bytes");
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
      Retry retry = Retry::No;
      auto result = exchange(conn, req, request.method == "HEAD", what, deadline, retry);
      // Again on a new connection only when the old one cannot have delivered the request: it
      // failed while being sent, or no byte came back to a read. A PUT or DELETE is not sent
      // twice either: Key Vault makes a new key version for every PUT of an import, and the
      // clients decide themselves what they repeat.
      const bool read_only = request.method == "GET" || request.method == "HEAD";
      if (!result && attempt == 0 &&
          (retry == Retry::NotSent || (retry == Retry::NoAnswer && read_only)))
        continue;
      if (result && conn) checkin(origin, std::move(conn));
      return result;
    }
  }

  enum class Retry { No, NotSent, NoAnswer };
  static constexpr std::size_t kIdlePerOrigin = 4;
  static constexpr std::size_t kIdleInAll = 16;
  static constexpr int kInterimAnswersAtMost = 4;
  static constexpr int kLookupsInFlightAtMost = 32;
  // A KMS's load balancer closes idle connections after about a minute; libcurl drops its own
  // after 118 s.
  static constexpr std::chrono::seconds kIdleAtMost{60};

  std::chrono::milliseconds wait() const {
    return options_.timeout.count() > 0 ? options_.timeout : std::chrono::seconds(30);
  }
  // The time the next operation may take: `timeout` without a byte, never past the deadline.
  void arm(Connection& c, SteadyClock::time_point deadline) const {
    c.tcp().expires_at(std::min(SteadyClock::now() + wait(), deadline));
  }
  Error timed_out(const std::string& what, SteadyClock::time_point deadline,
                  const std::string& doing) const {
    if (SteadyClock::now() >= deadline)
      return make_error(ErrorKind::DeadlineExceeded,
                        what + ": no whole answer within " +
                            std::to_string(options_.total_timeout.count()) +
                            " ms (KmsRequestTimeout)");
    return make_error(ErrorKind::Unavailable, what + ": " + doing + ": nothing for " +
                                                  std::to_string(wait().count()) + " ms");
  }

  // getaddrinfo cannot be interrupted: it runs on a thread of its own, and the request waits
  // for it no longer than for a connection (a name server that never answers holds that thread
  // until the system resolver's own timeout, not a worker). An IP literal needs no thread.
  Result<tcp::resolver::results_type> resolve(const std::string& host, const std::string& port,
                                              const std::string& what,
                                              SteadyClock::time_point deadline) {
    struct Lookup {
      std::mutex mu;
      std::condition_variable done_cv;
      bool done = false;
      tcp::resolver::results_type results;
      beast::error_code ec;
    };
    auto run = [](const std::string& h, const std::string& p, Lookup& out) {
      beast::error_code ec;
      tcp::resolver::results_type results;
      try {
        asio::io_context io;
        tcp::resolver resolver(io);
        results = resolver.resolve(h, p, ec);
      } catch (const std::exception&) {
        ec = asio::error::no_memory;
      }
      std::lock_guard lock(out.mu);
      out.results = std::move(results);
      out.ec = ec;
      out.done = true;
      out.done_cv.notify_all();
    };
    auto lookup = std::make_shared<Lookup>();
    if (is_ip_literal(host)) {
      run(host, port, *lookup);
    } else {
      // Lookups a name server left hanging keep their threads: a few at most, process-wide.
      static std::atomic<int> in_flight{0};
      if (in_flight.fetch_add(1) >= kLookupsInFlightAtMost) {
        in_flight.fetch_sub(1);
        return make_error(ErrorKind::Unavailable,
                          what + ": " + std::to_string(kLookupsInFlightAtMost) +
                              " host name lookups are already waiting for their name servers");
      }
      try {
        std::thread([lookup, host, port, run] {
          run(host, port, *lookup);
          in_flight.fetch_sub(1);
        }).detach();
      } catch (const std::exception&) {
        in_flight.fetch_sub(1);
        return make_error(ErrorKind::Unavailable, what + ": cannot start a host name lookup");
      }
      std::unique_lock lock(lookup->mu);
      if (!lookup->done_cv.wait_until(lock, std::min(SteadyClock::now() + wait(), deadline),
                                      [&] { return lookup->done; }))
        return timed_out(what, deadline, "resolving host name " + host);
    }
    std::lock_guard lock(lookup->mu);
    if (lookup->ec)
      return make_error(ErrorKind::Unavailable,
                        what + ": cannot resolve host name " + host + ": " + lookup->ec.message());
    return lookup->results;
  }

  Result<std::unique_ptr<Connection>> connect(const UrlParts& url, const std::string& what,
                                              SteadyClock::time_point deadline) {
    auto c = std::make_unique<Connection>();
    const std::string host = unbracketed(url.host);
    const std::string port = url.port.empty() ? (url.scheme == "https" ? "443" : "80") : url.port;
    auto endpoints = resolve(host, port, what, deadline);
    if (!endpoints) return endpoints.error();
    beast::error_code ec;
    if (url.scheme == "https")
      c->tls.emplace(c->io, tls_);
    else
      c->plain.emplace(c->io);
    arm(*c, deadline);
    ec = c->run([&](auto handler) { c->tcp().async_connect(*endpoints, std::move(handler)); });
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
                      : (SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS), 1) &&
                            SSL_set1_host(ssl, host.c_str()) &&
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
                                Retry& retry) {
    arm(*c, deadline);
    beast::error_code ec = c->with_stream([&](auto& stream) {
      return c->run([&](auto handler) { http::async_write(stream, req, std::move(handler)); });
    });
    if (ec) {
      if (c->reused && ec != beast::error::timeout) retry = Retry::NotSent;
      Error e = ec == beast::error::timeout
                    ? timed_out(what, deadline, "sending")
                    : make_error(ErrorKind::Unavailable, what + ": sending: " + ec.message());
      c.reset();
      return e;
    }
    auto too_large = [&](const std::string& part, std::size_t cap) {
      return make_error(ErrorKind::Internal, what + ": the answer's " + part + " larger than " +
                                                 std::to_string(cap) +
                                                 " bytes (KmsResponseTooLarge); not read");
    };
    // The read buffer holds what the parser has not taken yet: a header section, a chunk's
    // size line with its extensions, the trailers. Its own cap bounds those (Beast would
    // otherwise grow it for as long as a chunk line or the trailers go on).
    const std::size_t buffer_cap = options_.max_header_bytes + 64 * 1024;
    beast::flat_buffer buffer(buffer_cap);
    std::size_t header_bytes = 0;
    bool got_any = false;
    // Interim (1xx) answers are read past, a few at most; only the final answer's headers are
    // kept, and all of their header sections count towards one cap.
    for (int interim = 0;; ++interim) {
      if (interim > kInterimAnswersAtMost || header_bytes >= options_.max_header_bytes) {
        c.reset();
        return interim > kInterimAnswersAtMost
                   ? make_error(ErrorKind::Unavailable, what + ": more than " +
                                                            std::to_string(kInterimAnswersAtMost) +
                                                            " interim (1xx) answers")
                   : too_large("headers are", options_.max_header_bytes);
      }
      http::response_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(options_.max_header_bytes - header_bytes, UINT32_MAX)));
      parser.body_limit(options_.max_response_bytes);
      if (head) parser.skip(true);
      got_any = got_any || buffer.size() > 0;
      while (!parser.is_done()) {
        arm(*c, deadline);
        ec = c->with_stream([&](auto& stream) {
          return c->run([&](auto handler) {
            http::async_read_some(stream, buffer, parser, std::move(handler));
          });
        });
        got_any = got_any || buffer.size() > 0 || parser.got_some();
        if (ec) break;
      }
      if (ec) {
        if (c->reused && !got_any && ec != beast::error::timeout) retry = Retry::NoAnswer;
        c.reset();
        if (ec == http::error::body_limit) return too_large("body is", options_.max_response_bytes);
        if (ec == http::error::header_limit)
          return too_large("headers are", options_.max_header_bytes);
        if (ec == http::error::buffer_overflow)
          return too_large("chunk line or trailers are", buffer_cap);
        if (ec == beast::error::timeout) return timed_out(what, deadline, "reading the answer");
        return make_error(ErrorKind::Unavailable, what + ": reading the answer: " + ec.message());
      }
      auto& res = parser.get();
      const int status = static_cast<int>(res.result_int());
      if (status >= 100 && status < 200 && status != 101) {
        header_bytes += res.reason().size() + 16;  // "HTTP/1.1 100 " and the line ends
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
    std::vector<std::unique_ptr<Connection>> stale;  // closed outside the lock
    std::unique_ptr<Connection> found;
    {
      std::lock_guard lock(mu_);
      auto it = idle_.find(origin);
      const auto oldest = SteadyClock::now() - kIdleAtMost;
      while (it != idle_.end() && !it->second.empty() && !found) {
        auto c = std::move(it->second.back());
        it->second.pop_back();
        --idle_count_;
        if (c->idle_since >= oldest && c->idle_and_open())
          found = std::move(c);
        else
          stale.push_back(std::move(c));
      }
      if (it != idle_.end() && it->second.empty()) idle_.erase(it);
    }
    if (found) found->reused = true;
    return found;
  }
  void checkin(const std::string& origin, std::unique_ptr<Connection> c) {
    c->tcp().expires_never();
    c->idle_since = SteadyClock::now();
    std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
    std::lock_guard lock(mu_);
    // Connections to origins nobody asks for again go once they are too old to reuse.
    const auto oldest = c->idle_since - kIdleAtMost;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      for (auto at = list.begin(); at != list.end();) {
        if ((*at)->idle_since < oldest) {
          expired.push_back(std::move(*at));
          at = list.erase(at);
          --idle_count_;
        } else {
          ++at;
        }
      }
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (idle_count_ >= kIdleInAll) return;
    auto& list = idle_[origin];
    if (list.size() < kIdlePerOrigin) {
      list.push_back(std::move(c));
      ++idle_count_;
    }
  }

  HttpTransportOptions options_;
  asio::ssl::context tls_;
  std::string extra_ca_error_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::size_t idle_count_ = 0;
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
  // Spaces, control bytes and anything beyond ASCII go percent-encoded or not at all: a line
  // break in a path would end the request line and start a request of the URL's writer (a
  // tenant's endpoint, a mount path).
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f)
      return make_error(
          ErrorKind::InvalidArgument,
          "URL carries a space, a control byte or a byte beyond ASCII (percent-encode "
          "it): " +
              std::string(url.substr(0, 200)));
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
  // A host name is letters, digits, '-', '_' and dots (an escape such as "\\." would be read by
  // the resolver, after an allow-list pattern matched the text); an IPv6 literal is hex digits,
  // colons and dots in brackets.
  if (p.host.empty() || p.host == "[]")
    return make_error(ErrorKind::InvalidArgument, "URL has no usable host: " + std::string(url));
  const bool v6 = p.host.front() == '[';
  for (char ch : v6 ? std::string_view(p.host).substr(1, p.host.size() - 2) : p.host) {
    auto c = static_cast<unsigned char>(ch);
    bool ok = std::isalnum(c) || c == '.' || (v6 ? c == ':' : (c == '-' || c == '_'));
    if (!ok)
      return make_error(ErrorKind::InvalidArgument,
                        "URL host has a character a host name cannot have: " + std::string(url));
  }
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
