#pragma once
// Splits a byte stream into newline-terminated lines, refusing any line longer than a cap.
// Peers that stream (the apiserver's watch) decide how long a line is; without a cap one endless
// line would be buffered whole. Pure: fed chunks as they arrive, so unit tests and the fuzzer
// drive it without a socket.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace byok {

class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line_bytes) : max_line_(max_line_bytes) {}

  // Calls on_line for each complete line in `chunk` (without its '\n'; a trailing '\r' is kept,
  // empty lines are skipped). on_line returns false to stop: feed then returns false. A line
  // over the cap is an error (kind Internal) naming the cap; nothing after it is delivered.
  Result<bool> feed(std::string_view chunk, const std::function<bool(std::string&)>& on_line);

  // Bytes of the line not yet ended by '\n'.
  std::size_t pending() const { return partial_.size(); }

 private:
  std::size_t max_line_;
  std::string partial_;
};

}  // namespace byok
