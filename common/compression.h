#pragma once
// zlib's deflate, in the two shapes the tree needs: compressing small records kept in memory
// (raw deflate, no header), and inflating with a cap on what comes out (a record of ours, or a
// gzip body from a KMS, where a small hostile input must not expand into gigabytes).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace byok {

enum class Deflated {
  Raw,   // raw deflate, as deflate_small() writes
  Gzip,  // a gzip member (RFC 1952)
};

// Raw deflate with a 4 KiB window: records of a few KiB compress as well as with zlib's 32 KiB,
// and a call allocates about 25 KiB instead of 270 KiB.
std::string deflate_small(std::string_view bytes);

// The inflated bytes; nullopt when the input is not whole, well-formed data of that format, or
// inflates to more than `max_bytes`.
std::optional<std::string> inflate_capped(std::string_view bytes, Deflated format,
                                          std::size_t max_bytes);

}  // namespace byok
