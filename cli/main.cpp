#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/process_init.h"

int main(int argc, char** argv) {
  byok::disable_core_dumps();  // a ceremony holds PINs and, for software keys, key material
  std::vector<std::string> args(argv + 1, argv + argc);
  byok::cli::Io io{std::cout, std::cerr, byok::hsm::process_env()};
  return byok::cli::run(args, io);
}
