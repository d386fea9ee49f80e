#include "cli/args.h"

#include <algorithm>

namespace byok::cli {

Result<Args> Args::parse(std::span<const std::string> argv, const std::vector<FlagSpec>& specs) {
  Args out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!a.starts_with("--")) {
      return make_error(ErrorKind::InvalidArgument, "unexpected argument \"" + a + "\"");
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "pin" || name == "so-pin" || name == "user-pin") {
      return make_error(ErrorKind::InvalidArgument,
                        "a PIN is never accepted on the command line (it would show in ps and "
                        "shell history); use --pin-file, BYOK_HSM_PIN or BYOK_HSM_PIN_FILE");
    }
    auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end())
      return make_error(ErrorKind::InvalidArgument, "unknown flag --" + name);
    if (out.values_.count(name))
      return make_error(ErrorKind::InvalidArgument, "--" + name + " given twice");
    if (!spec->takes_value) {
      if (inline_value)
        return make_error(ErrorKind::InvalidArgument, "--" + name + " takes no value");
      out.values_[name] = "true";
      continue;
    }
    if (inline_value) {
      out.values_[name] = *inline_value;
    } else {
      if (i + 1 >= argv.size())
        return make_error(ErrorKind::InvalidArgument, "--" + name + " needs a value");
      out.values_[name] = argv[++i];
    }
  }
  return out;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

Result<std::string> Args::exactly_one(const std::vector<std::string>& names) const {
  std::string found, all;
  int count = 0;
  for (const auto& n : names) {
    all += (all.empty() ? "--" : " | --") + n;
    if (has(n)) {
      found = n;
      ++count;
    }
  }
  if (count != 1) return make_error(ErrorKind::InvalidArgument, "give exactly one of " + all);
  return found;
}

std::string format_flags(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.takes_value ? " " + s.value_name : "");
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "\n" + std::string(30, ' ');
    out += left + s.help + "\n";
  }
  return out;
}

}  // namespace byok::cli
