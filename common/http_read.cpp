#include "common/http_read.h"

#include <algorithm>
#include <vector>

#include <cpprest/streams.h>

namespace byok {

std::optional<std::string> read_body_capped(const web::http::http_response& response,
                                            std::size_t cap) {
  // content_length() is 0 when absent and the headers' word otherwise: only a ceiling check.
  if (response.headers().content_length() > cap) return std::nullopt;
  auto body = response.body().streambuf();
  std::string out;
  std::vector<std::uint8_t> chunk(64 * 1024);
  for (;;) {
    std::size_t n = body.getn(chunk.data(), chunk.size()).get();
    if (n == 0) break;
    if (out.size() + n > cap) return std::nullopt;
    out.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
  return out;
}

void read_body_streaming(const web::http::http_response& response,
                         const std::function<bool(std::string_view)>& on_chunk) {
  auto body = response.body().streambuf();
  std::vector<std::uint8_t> chunk(64 * 1024);
  for (;;) {
    // getc() waits for one byte without taking it; then whatever has arrived is taken at once,
    // so a watch event is delivered as soon as its bytes are here, not when 64 KiB are.
    using traits = concurrency::streams::streambuf<std::uint8_t>::traits;
    if (body.getc().get() == traits::eof()) return;
    std::size_t avail = static_cast<std::size_t>(std::max<std::streamsize>(body.in_avail(), 1));
    std::size_t n = body.getn(chunk.data(), std::min(avail, chunk.size())).get();
    if (n == 0) return;
    if (!on_chunk(std::string_view(reinterpret_cast<const char*>(chunk.data()), n))) return;
  }
}

}  // namespace byok
