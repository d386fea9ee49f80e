#pragma once
// A one-shot HTTP server on 127.0.0.1 for unit tests of what reads from the network: it answers
// the first request with raw bytes (any status, any framing, any size) and closes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace byok::testing {

// A listening socket on 127.0.0.1 at a port the kernel picks (written to `port`).
inline int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  REQUIRE(::listen(fd, 16) == 0);
  return fd;
}

// A one-shot HTTP server on 127.0.0.1 that answers the first request with `response` (raw
// bytes) and closes; `connections` counts who came. With a `drip` interval it then sends one more
// byte per interval until the client goes away (a slow-drip peer); `stop` ends that early.
struct RawServer {
  int fd = -1;
  int port = 0;
  std::atomic<int> connections{0};
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit RawServer(std::string response, std::chrono::milliseconds drip = {}) {
    fd = listen_on_loopback(port);
    thread = std::thread([this, drip, response = std::move(response)] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      ++connections;
      char buf[4096];
      ::recv(c, buf, sizeof buf, 0);
      size_t sent = 0;
      while (sent < response.size()) {
        ssize_t n = ::send(c, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      while (drip.count() > 0 && !stop) {
        std::this_thread::sleep_for(drip);
        if (::send(c, "x", 1, MSG_NOSIGNAL) != 1) break;
      }
      ::close(c);
    });
  }
  ~RawServer() {
    stop = true;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    thread.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string url() const { return base() + "/v1/x"; }
};

// A keep-alive server on 127.0.0.1 that follows a script: connection i answers its j-th read
// with script[i][j] (an empty answer closes the connection without answering) and closes when
// its answers run out. It records every byte it receives.
struct ScriptServer {
  int fd = -1;
  int port = 0;
  std::atomic<int> connections{0};
  std::thread thread;
  std::mutex mu;
  std::string received;
  std::vector<std::thread> handlers;

  explicit ScriptServer(std::vector<std::vector<std::string>> script) {
    fd = listen_on_loopback(port);
    thread = std::thread([this, script = std::move(script)] {
      for (const auto& answers : script) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
        handlers.emplace_back([this, c, answers] {
          for (const auto& answer : answers) {
            char buf[65536];
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            {
              std::lock_guard lock(mu);
              received.append(buf, static_cast<size_t>(n));
            }
            if (answer.empty()) break;
            ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
          }
          ::close(c);
        });
      }
    });
  }
  ~ScriptServer() {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    thread.join();
    for (auto& h : handlers) h.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string got() {
    std::lock_guard lock(mu);
    return received;
  }
};

}  // namespace byok::testing
