#pragma once
// What the unit tests' fakes (fake_kube_client.h, fake_kms.h, fake_hsm.h) share: every call
// recorded as "<method> <argument>", and errors a test scripts per method: the next calls of
// that method fail with them, first first, and change nothing.

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace byok::testing {

class CallLog {
 public:
  std::vector<std::string> calls;

  void fail_next(const std::string& method, Error e) { failures_[method].push_back(std::move(e)); }
  // Records the call; returns the error scripted for it, if any.
  std::optional<Error> record(const std::string& method, const std::string& argument) {
    calls.push_back(method + " " + argument);
    auto it = failures_.find(method);
    if (it == failures_.end() || it->second.empty()) return std::nullopt;
    Error e = it->second.front();
    it->second.pop_front();
    return e;
  }
  size_t count(const std::string& method) const {
    size_t n = 0;
    for (const auto& c : calls) n += c.rfind(method + " ", 0) == 0;
    return n;
  }

 private:
  std::map<std::string, std::deque<Error>> failures_;
};

}  // namespace byok::testing
