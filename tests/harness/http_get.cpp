#include "tests/harness/http_get.h"

#include <algorithm>
#include <sstream>
#include <utility>  // Boost.Asio 1.81 uses std::exchange without including it

#include <boost/asio.hpp>

namespace byok::testing {

HttpAnswer http_get(int port, const std::string& path, const std::string& method) {
  namespace asio = boost::asio;
  HttpAnswer answer;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) {
    answer.error = "connect: " + ec.message();
    return answer;
  }
  // A socket-level receive timeout, so a server that never answers fails the test instead of
  // hanging it.
  timeval tv{10, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request), ec);
  if (ec) {
    answer.error = "write: " + ec.message();
    return answer;
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    size_t n = socket.read_some(asio::buffer(buf), ec);
    raw.append(buf, n);
    if (ec) break;
  }
  if (ec != asio::error::eof) {
    answer.error = "read: " + ec.message();
    return answer;
  }
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    answer.error = "no complete response head in: " + raw;
    return answer;
  }
  std::istringstream head(raw.substr(0, head_end));
  std::string line, version;
  std::getline(head, line);
  std::istringstream(line) >> version >> answer.status;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    answer.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  answer.body = raw.substr(head_end + 4);
  return answer;
}

double sample_sum(const std::string& exposition, const std::string& name,
                  const std::vector<std::string>& labels) {
  double sum = 0;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;  // another metric sharing the prefix
    auto value_at = line.rfind(' ');
    std::string label_set = line.substr(name.size(), value_at - name.size());
    bool match = true;
    for (const auto& l : labels) match = match && label_set.find(l) != std::string::npos;
    if (match) sum += std::stod(line.substr(value_at + 1));
  }
  return sum;
}

}  // namespace byok::testing
