#pragma once
// An EventRecorder that keeps every Event it is given, with the object it regards.

#include <string>
#include <utility>
#include <vector>

#include "controller/runtime/events.h"

namespace byok::testing {

struct RecordedEvents : runtime::EventRecorder {
  std::vector<std::pair<nlohmann::json, runtime::EventSpec>> events;
  void record(const nlohmann::json& regarding, const runtime::EventSpec& e) override {
    events.emplace_back(regarding, e);
  }
  // The reasons, in order.
  std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& [o, e] : events) out.push_back(e.reason);
    return out;
  }
};

}  // namespace byok::testing
