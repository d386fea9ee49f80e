#include "common/file_read.h"

#include <algorithm>
#include <fstream>

namespace byok {

Result<std::string> read_file_capped(const std::string& path, std::size_t cap) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  // Read in pieces, so a small file costs its size and not the cap; one byte more than the cap
  // tells "exactly the cap" from "more".
  std::string out;
  char piece[16 * 1024];
  while (out.size() <= cap && in) {
    const std::size_t want = std::min(sizeof piece, cap + 1 - out.size());
    in.read(piece, static_cast<std::streamsize>(want));
    out.append(piece, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  if (out.size() > cap)
    return make_error(ErrorKind::InvalidArgument,
                      path + " is larger than " + std::to_string(cap) + " bytes (FileTooLarge)");
  return out;
}

}  // namespace byok
