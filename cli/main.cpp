#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  byok::cli::Io io{std::cout, std::cerr, byok::hsm::process_env()};
  return byok::cli::run(args, io);
}
