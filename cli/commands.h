#pragma once
// byokctl's subcommands. run() is main() minus the process: it takes the arguments after the
// program name and the streams and environment to use, and returns the exit code:
//   0 ok, 1 internal error, 2 bad usage or input, 3 not found, 4 authentication/permission,
//   5 the HSM or the method cannot do this (unsupported), 6 HSM unavailable.
// Nothing it prints contains key material or a PIN; wrapped output goes to --out (or stdout
// where a command says so).

#include <ostream>
#include <span>
#include <string>

#include "hsm/config.h"

namespace byok::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
  hsm::EnvLookup env;
};

int run(std::span<const std::string> args, Io& io);

}  // namespace byok::cli
