#include "controller/observability/http_server.h"

#include <thread>

#include <boost/asio.hpp>

namespace byok::observability {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr size_t kMaxRequestHead = 16 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(5);

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

std::string serialize(const HttpResponse& r, bool allow_get) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (allow_get) out += "Allow: GET\r\n";
  out += "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
  return out + r.body;
}

// One connection: read the request head, answer, close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::map<std::string, HttpHandler>& handlers, Logger& log)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(kMaxRequestHead),
        handlers_(handlers),
        log_(log) {}

  void start() {
    auto self = shared_from_this();
    timer_.expires_after(kRequestTimeout);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(
        socket_, buffer_, "\r\n\r\n",
        [self](const boost::system::error_code& ec, size_t) { self->on_head(ec); });
  }

 private:
  void on_head(const boost::system::error_code& ec) {
    if (ec) {
      // Too large, timed out or closed by the peer: answer 400 where the socket still works.
      if (ec == asio::error::not_found)
        respond({400, "text/plain; charset=utf-8", "request head too large\n"}, false);
      else
        timer_.cancel();
      return;
    }
    std::istream in(&buffer_);
    std::string method, target, version;
    in >> method >> target >> version;
    if (method.empty() || target.empty() || version.rfind("HTTP/1.", 0) != 0)
      return respond({400, "text/plain; charset=utf-8", "bad request\n"}, false);
    std::string path = target.substr(0, target.find('?'));
    auto it = handlers_.find(path);
    if (it == handlers_.end())
      return respond({404, "text/plain; charset=utf-8", "404 page not found\n"}, false);
    if (method != "GET")
      return respond({405, "text/plain; charset=utf-8", "method not allowed\n"}, true);
    HttpResponse r;
    try {
      r = it->second();
    } catch (const std::exception& e) {
      log_.error("http handler failed", {{"path", path}, {"error", e.what()}});
      r = {500, "text/plain; charset=utf-8", "internal error\n"};
    }
    respond(r, false);
  }

  void respond(const HttpResponse& r, bool allow_get) {
    response_ = serialize(r, allow_get);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(response_),
                      [self](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                        self->timer_.cancel();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string response_;
  const std::map<std::string, HttpHandler>& handlers_;
  Logger& log_;
};

}  // namespace

Result<std::optional<BindAddress>> parse_bind_address(const std::string& text) {
  if (text == "0") return std::optional<BindAddress>();
  auto invalid = [&] {
    return make_error(ErrorKind::InvalidArgument,
                      "bind address \"" + text + "\" is not [host]:port or 0 (disabled)");
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return invalid();
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return invalid();  // IPv6 needs brackets
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return invalid();
  int port = std::stoi(port_text);
  if (port > 65535) return invalid();
  return std::optional<BindAddress>(BindAddress{host, port});
}

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  int port = 0;

  void accept(const std::map<std::string, HttpHandler>& handlers, Logger& log) {
    acceptor.async_accept(
        [this, &handlers, &log](const boost::system::error_code& ec, tcp::socket s) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (!ec) std::make_shared<Session>(std::move(s), handlers, log)->start();
          accept(handlers, log);
        });
  }
};

HttpServer::HttpServer(Logger& log) : log_(log) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(const std::string& path, HttpHandler handler) {
  handlers_[path] = std::move(handler);
}

Status HttpServer::start(const BindAddress& address) {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(address.host.empty() ? "0.0.0.0" : address.host,
                                    std::to_string(address.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "cannot resolve " + address.host + ": " + ec.message());
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  std::string where = endpoint.address().to_string() + ":" + std::to_string(address.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::Unavailable, "cannot listen on " + where + ": " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept(handlers_, log_);
  impl->thread = std::thread([io = &impl->io] { io->run(); });
  impl_ = std::move(impl);
  return {};
}

int HttpServer::port() const { return impl_ ? impl_->port : 0; }

void HttpServer::stop() {
  if (!impl_) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_.reset();
}

}  // namespace byok::observability
