#include "controller/runtime/label_selector.h"

#include <algorithm>

namespace byok::runtime {
namespace {

bool string_list(const nlohmann::json& values, std::vector<std::string>& out) {
  if (!values.is_array()) return false;
  for (const auto& v : values) {
    if (!v.is_string()) return false;
    out.push_back(v.get<std::string>());
  }
  return true;
}

bool expression_holds(const nlohmann::json& e, const Labels& labels) {
  if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("operator") ||
      !e["operator"].is_string())
    return false;
  const std::string key = e["key"].get<std::string>(), op = e["operator"].get<std::string>();
  std::vector<std::string> values;
  if (e.contains("values") && !string_list(e["values"], values)) return false;
  auto it = labels.find(key);
  const bool present = it != labels.end();
  auto listed = [&] {
    return present && std::find(values.begin(), values.end(), it->second) != values.end();
  };
  if (op == "In") return !values.empty() && listed();
  if (op == "NotIn") return !values.empty() && !listed();
  if (op == "Exists") return values.empty() && present;
  if (op == "DoesNotExist") return values.empty() && !present;
  return false;  // unknown operator: selects nothing
}

}  // namespace

bool selects(const nlohmann::json& selector, const Labels& labels) {
  if (!selector.is_object()) return false;
  bool constrained = false;
  if (auto ml = selector.find("matchLabels"); ml != selector.end() && !ml->is_null()) {
    if (!ml->is_object()) return false;
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      if (!it->is_string()) return false;
      auto l = labels.find(it.key());
      if (l == labels.end() || l->second != it->get<std::string>()) return false;
      constrained = true;
    }
  }
  if (auto me = selector.find("matchExpressions"); me != selector.end() && !me->is_null()) {
    if (!me->is_array()) return false;
    for (const auto& e : *me) {
      if (!expression_holds(e, labels)) return false;
      constrained = true;
    }
  }
  return constrained;
}

Labels labels_of(const nlohmann::json& object) {
  Labels out;
  if (!object.is_object() || !object.contains("metadata")) return out;
  const auto& meta = object["metadata"];
  if (!meta.is_object() || !meta.contains("labels") || !meta["labels"].is_object()) return out;
  for (auto it = meta["labels"].begin(); it != meta["labels"].end(); ++it)
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  return out;
}

}  // namespace byok::runtime
