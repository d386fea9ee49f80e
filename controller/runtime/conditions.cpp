#include "controller/runtime/conditions.h"

namespace byok::runtime {

std::vector<Condition> conditions_from_json(const nlohmann::json& list) {
  std::vector<Condition> out;
  if (!list.is_array()) return out;
  for (const auto& j : list) {
    Condition c;
    c.type = j.value("type", "");
    c.status = j.value("status", "");
    c.reason = j.value("reason", "");
    c.message = j.value("message", "");
    c.observed_generation = j.value("observedGeneration", int64_t{0});
    c.last_transition_time = j.value("lastTransitionTime", "");
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json conditions_to_json(const std::vector<Condition>& conditions) {
  auto list = nlohmann::json::array();
  for (const auto& c : conditions)
    list.push_back({{"type", c.type},
                    {"status", c.status},
                    {"reason", c.reason},
                    {"message", c.message},
                    {"observedGeneration", c.observed_generation},
                    {"lastTransitionTime", c.last_transition_time}});
  return list;
}

void set_condition(std::vector<Condition>& conditions, Condition c, const std::string& now) {
  for (auto& existing : conditions) {
    if (existing.type != c.type) continue;
    c.last_transition_time = existing.status == c.status && !existing.last_transition_time.empty()
                                 ? existing.last_transition_time
                                 : now;
    existing = std::move(c);
    return;
  }
  c.last_transition_time = now;
  conditions.push_back(std::move(c));
}

const Condition* find_condition(const std::vector<Condition>& conditions, const std::string& type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace byok::runtime
