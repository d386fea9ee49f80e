#include "common/line_framer.h"

namespace byok {

Result<bool> LineFramer::feed(std::string_view chunk,
                              const std::function<bool(std::string&)>& on_line) {
  while (!chunk.empty()) {
    std::size_t nl = chunk.find('\n');
    std::string_view piece = chunk.substr(0, nl);  // npos: the whole rest
    if (partial_.size() + piece.size() > max_line_)
      return make_error(ErrorKind::Internal, "a line longer than " + std::to_string(max_line_) +
                                                 " bytes (LineTooLong); the stream was closed");
    partial_.append(piece);
    if (nl == std::string_view::npos) break;
    chunk.remove_prefix(nl + 1);
    std::string line;
    line.swap(partial_);
    if (!line.empty() && !on_line(line)) return false;
  }
  return true;
}

}  // namespace byok
