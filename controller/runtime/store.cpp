#include "controller/runtime/store.h"

namespace byok::runtime {

std::string object_key(const Json& object) {
  const auto& meta = object.at("metadata");
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::optional<Json> Store::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> Store::list_namespace(const std::string& ns) const {
  std::vector<Json> out;
  visit_namespace(ns, [&out](const Json& o) { out.push_back(o); });
  return out;
}

void Store::visit_namespace(const std::string& ns,
                            const std::function<void(const Json&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string prefix = ns + "/";
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    fn(it->second);
  }
}

std::vector<std::string> Store::keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [k, v] : objects_) out.push_back(k);
  return out;
}

size_t Store::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

std::optional<Json> Store::upsert(const Json& object) {
  std::string key = object_key(object);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  std::optional<Json> previous;
  if (it != objects_.end()) {
    previous = std::move(it->second);
    it->second = object;
  } else {
    objects_.emplace(key, object);
  }
  return previous;
}

std::optional<Json> Store::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  Json previous = std::move(it->second);
  objects_.erase(it);
  return previous;
}

std::vector<Json> Store::replace(const std::vector<Json>& objects) {
  std::map<std::string, Json> fresh;
  for (const auto& o : objects) fresh.emplace(object_key(o), o);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> removed;
  for (auto& [k, v] : objects_)
    if (!fresh.count(k)) removed.push_back(std::move(v));
  objects_.swap(fresh);
  return removed;
}

std::vector<Json> Store::replace_namespace(const std::string& ns,
                                           const std::vector<Json>& objects) {
  const std::string prefix = ns + "/";
  std::map<std::string, Json> fresh;
  for (const auto& o : objects) fresh.emplace(object_key(o), o);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> removed;
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.rfind(prefix, 0) == 0;) {
    if (!fresh.count(it->first)) removed.push_back(std::move(it->second));
    it = objects_.erase(it);
  }
  objects_.merge(fresh);
  return removed;
}

}  // namespace byok::runtime
