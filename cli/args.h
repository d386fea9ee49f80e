#pragma once
// A small, strict command-line parser for byokctl: --name value, --name=value and boolean
// --name; unknown flags, missing values and repeated flags are errors (a typo in a key ceremony
// must stop it, not be ignored). "--pin" in any form is refused with a pointer to the safe ways.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace byok::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
  std::string help;
  std::string value_name = "VALUE";
};

class Args {
 public:
  static Result<Args> parse(std::span<const std::string> argv, const std::vector<FlagSpec>& specs);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  // The one flag of `names` that was given; InvalidArgument if none or several were.
  Result<std::string> exactly_one(const std::vector<std::string>& names) const;

 private:
  std::map<std::string, std::string> values_;
};

std::string format_flags(const std::vector<FlagSpec>& specs);

}  // namespace byok::cli
