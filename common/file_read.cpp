#include "common/file_read.h"

#include <fstream>

namespace byok {

Result<std::string> read_file_capped(const std::string& path, std::size_t cap) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  // One byte more than the cap tells "exactly the cap" from "more".
  std::string out(cap + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (in.bad()) return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  out.resize(static_cast<std::size_t>(in.gcount()));
  if (out.size() > cap)
    return make_error(ErrorKind::InvalidArgument,
                      path + " is larger than " + std::to_string(cap) + " bytes (FileTooLarge)");
  return out;
}

}  // namespace byok
