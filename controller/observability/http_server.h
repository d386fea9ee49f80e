#pragma once
// A tiny HTTP/1.1 server over Boost.Asio for /metrics and the probes: GET only, one request per
// connection (Connection: close), no TLS, no request body. Unknown paths answer 404, other
// methods on a known path 405. Handlers run on the server's one thread, one at a time; a client
// that has not sent its request head within a few seconds is dropped, and a head over 16 KiB is
// refused, so a slow or hostile client cannot hold the thread.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/result.h"

namespace byok::observability {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using HttpHandler = std::function<HttpResponse()>;

struct BindAddress {
  std::string host;  // empty: every IPv4 interface
  int port = 0;      // 0: a free port the kernel picks (see HttpServer::port())
};
// controller-runtime's flag syntax: ":8080" (all interfaces), "127.0.0.1:8080", "[::1]:8080",
// "localhost:8080"; "0" disables the server (nullopt). InvalidArgument for anything else.
Result<std::optional<BindAddress>> parse_bind_address(const std::string& text);

class HttpServer {
 public:
  explicit HttpServer(Logger& log);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before start(). `path` is matched exactly, without the query string.
  void handle(const std::string& path, HttpHandler handler);
  // Binds now (an address in use is an error here, not later) and serves on a thread of its own.
  Status start(const BindAddress& address);
  // The bound port, once started.
  int port() const;
  void stop();

 private:
  struct Impl;
  Logger& log_;
  std::map<std::string, HttpHandler> handlers_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace byok::observability
