#include "common/compression.h"

#include <new>

#include <zlib.h>

namespace byok {
namespace {

constexpr int kSmallWindowBits = 12;  // 4 KiB
constexpr int kSmallMemLevel = 3;     // 1 KiB hash table; 512-symbol blocks

}  // namespace

std::string deflate_small(std::string_view bytes) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kSmallWindowBits, kSmallMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::bad_alloc();
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);  // deflateBound() room: one call finishes
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::bad_alloc();
  out.shrink_to_fit();
  return out;
}

std::optional<std::string> inflate_capped(std::string_view bytes, Deflated format,
                                          std::size_t max_bytes) {
  z_stream z{};
  // Raw data is ours, written with a 4 KiB window, so it is read with one: with Z_FINISH below,
  // zlib keeps no window at all for what inflates into one 16 KiB piece (a cached object, read
  // on every reconcile), and at most 4 KiB otherwise.
  const int window = format == Deflated::Gzip ? 16 + MAX_WBITS : -kSmallWindowBits;
  if (inflateInit2(&z, window) != Z_OK) return std::nullopt;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_FINISH);
    const std::size_t got = sizeof buf - z.avail_out;
    if (out.size() + got > max_bytes) {
      rc = Z_BUF_ERROR;
      break;
    }
    out.append(buf, got);
    // Z_FINISH: Z_BUF_ERROR means more room is needed (go on) unless nothing came out of the
    // input left, which then ended early.
    if (rc == Z_BUF_ERROR && got > 0) rc = Z_OK;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace byok
