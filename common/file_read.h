#pragma once
// Reading a whole small file (a token, a CA bundle, a kubeconfig) with a cap, so that a path that
// names something larger (a device, a log, /dev/zero) is refused before it is buffered. Secrets
// that must not linger on the heap use hsm::read_secret_file instead.

#include <cstddef>
#include <string>

#include "common/result.h"

namespace byok {

// The file's bytes; InvalidArgument "cannot read <path>" when it cannot be opened, and
// InvalidArgument naming the cap ("FileTooLarge") when it holds more than `cap` bytes.
Result<std::string> read_file_capped(const std::string& path, std::size_t cap);

}  // namespace byok
