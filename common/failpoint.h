#pragma once
// Failpoints: named spots where a test can make the process die on purpose, to prove a
// multi-step operation is crash-safe (as etcd's gofail does). Off unless the environment
// variable BYOK_FAILPOINTS lists the name (comma-separated); a listed failpoint ends the
// process at once with _exit(86), as a SIGKILL or an OOM kill would: no destructor, no flush
// beyond the line it writes to stderr.

#include <string_view>

namespace byok {

inline constexpr int kFailpointExitCode = 86;

void failpoint(std::string_view name);

}  // namespace byok
