#pragma once
// metav1.Condition and the rule for updating a list of them: lastTransitionTime changes only
// when the status flips; reason, message and observedGeneration follow the newest observation.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byok::runtime {

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339

  bool operator==(const Condition&) const = default;
};

std::vector<Condition> conditions_from_json(const nlohmann::json& list);
nlohmann::json conditions_to_json(const std::vector<Condition>& conditions);

// Sets `c` in `conditions`, keeping the old lastTransitionTime when the status did not change;
// `now` is used otherwise. The list keeps its order; a new type is appended.
void set_condition(std::vector<Condition>& conditions, Condition c, const std::string& now);
const Condition* find_condition(const std::vector<Condition>& conditions, const std::string& type);

}  // namespace byok::runtime
