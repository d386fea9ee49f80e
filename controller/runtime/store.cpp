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

SharedJson cached_form(const Json& object) {
  auto copy = std::make_shared<Json>(object);
  if (copy->is_object()) {
    auto md = copy->find("metadata");
    if (md != copy->end() && md->is_object()) md->erase("managedFields");
  }
  return copy;
}

std::optional<Json> Store::get(const std::string& key) const {
  auto o = get_shared(key);
  if (!o) return std::nullopt;
  return *o;
}

SharedJson Store::get_shared(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
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
    fn(*it->second);
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

void Store::add_index(const std::string& name, IndexFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  indexes_[name] = Index{std::move(fn), {}};
}

bool Store::has_index(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return indexes_.count(name) > 0;
}

std::vector<SharedJson> Store::by_index(const std::string& name, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SharedJson> out;
  auto idx = indexes_.find(name);
  if (idx == indexes_.end()) return out;
  auto hit = idx->second.keys.find(value);
  if (hit == idx->second.keys.end()) return out;
  for (const auto& key : hit->second)
    if (auto it = objects_.find(key); it != objects_.end()) out.push_back(it->second);
  return out;
}

void Store::index_locked(const std::string& key, const Json* old, const Json* now) {
  for (auto& [_, index] : indexes_) {
    std::vector<std::string> before = old ? index.fn(*old) : std::vector<std::string>{};
    std::vector<std::string> after = now ? index.fn(*now) : std::vector<std::string>{};
    if (before == after) continue;
    for (const auto& v : before) {
      auto hit = index.keys.find(v);
      if (hit == index.keys.end()) continue;
      hit->second.erase(key);
      if (hit->second.empty()) index.keys.erase(hit);
    }
    for (const auto& v : after) index.keys[v].insert(key);
  }
}

SharedJson Store::upsert(const Json& object) {
  std::string key = object_key(object);
  SharedJson fresh = cached_form(object);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = objects_[key];
  SharedJson previous = std::move(slot);
  slot = fresh;
  index_locked(key, previous.get(), fresh.get());
  return previous;
}

SharedJson Store::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  SharedJson previous = std::move(it->second);
  objects_.erase(it);
  index_locked(key, previous.get(), nullptr);
  return previous;
}

std::vector<SharedJson> Store::replace(const std::vector<Json>& objects) {
  std::map<std::string, SharedJson> fresh;
  for (const auto& o : objects) fresh.emplace(object_key(o), cached_form(o));
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SharedJson> removed;
  for (auto& [k, v] : objects_)
    if (!fresh.count(k)) {
      index_locked(k, v.get(), nullptr);
      removed.push_back(std::move(v));
    }
  for (const auto& [k, v] : fresh) {
    auto old = objects_.find(k);
    index_locked(k, old == objects_.end() ? nullptr : old->second.get(), v.get());
  }
  objects_.swap(fresh);
  return removed;
}

std::vector<SharedJson> Store::replace_namespace(const std::string& ns,
                                                 const std::vector<Json>& objects) {
  const std::string prefix = ns + "/";
  std::map<std::string, SharedJson> fresh;
  for (const auto& o : objects) fresh.emplace(object_key(o), cached_form(o));
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SharedJson> removed;
  for (const auto& [k, v] : fresh) {
    auto old = objects_.find(k);
    index_locked(k, old == objects_.end() ? nullptr : old->second.get(), v.get());
  }
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.rfind(prefix, 0) == 0;) {
    if (!fresh.count(it->first)) {
      index_locked(it->first, it->second.get(), nullptr);
      removed.push_back(std::move(it->second));
    }
    it = objects_.erase(it);
  }
  objects_.merge(fresh);
  return removed;
}

}  // namespace byok::runtime
