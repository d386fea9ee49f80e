#include "controller/runtime/store.h"

#include <stdexcept>

#include "common/compression.h"

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

std::string cached_form(const Json& object) {
  std::string packed;
  if (object.is_object()) {
    auto md = object.find("metadata");
    if (md != object.end() && md->is_object() && md->contains("managedFields")) {
      Json copy = object;
      copy["metadata"].erase("managedFields");
      Json::to_msgpack(copy, packed);
      return deflate_small(packed);
    }
  }
  Json::to_msgpack(object, packed);
  return deflate_small(packed);
}

Json parse_cached_form(const std::string& bytes) {
  // Only the store's own bytes come here; what an apiserver may hold of one object (1.5 MiB by
  // default, etcd's limit) is far below the cap.
  auto packed = inflate_capped(bytes, Deflated::Raw, 64 * 1024 * 1024);
  if (!packed) throw std::logic_error("the store's cached form does not inflate");
  return Json::from_msgpack(*packed);
}

SharedJson from_cached_form(const std::string& bytes) {
  return std::make_shared<const Json>(parse_cached_form(bytes));
}

std::optional<Json> Store::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return parse_cached_form(it->second.bytes);
}

SharedJson Store::get_shared(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  return from_cached_form(it->second.bytes);
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
    fn(parse_cached_form(it->second.bytes));
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

std::optional<std::string> Store::resource_version(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.resource_version;
}

Store::Entry Store::entry_of(const Json& object) {
  Entry e{cached_form(object), ""};
  if (object.is_object())
    if (auto md = object.find("metadata"); md != object.end() && md->is_object())
      if (auto rv = md->find("resourceVersion"); rv != md->end() && rv->is_string())
        e.resource_version = rv->get<std::string>();
  return e;
}

size_t Store::stored_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_bytes_;
}

void Store::add_index(const std::string& name, IndexFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  indexes_[name] = Index{std::move(fn), {}, {}};
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
    if (auto it = objects_.find(key); it != objects_.end())
      out.push_back(from_cached_form(it->second.bytes));
  return out;
}

std::vector<std::string> Store::keys_by_index(const std::string& name,
                                              const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto idx = indexes_.find(name);
  if (idx == indexes_.end()) return {};
  auto hit = idx->second.keys.find(value);
  if (hit == idx->second.keys.end()) return {};
  return {hit->second.begin(), hit->second.end()};
}

void Store::index_locked(const std::string& key, const Json* now) {
  for (auto& [_, index] : indexes_) {
    std::vector<std::string> after = now ? index.fn(*now) : std::vector<std::string>{};
    auto had = index.values.find(key);
    const std::vector<std::string> none;
    const std::vector<std::string>& before = had == index.values.end() ? none : had->second;
    if (before == after) continue;
    for (const auto& v : before) {
      auto hit = index.keys.find(v);
      if (hit == index.keys.end()) continue;
      hit->second.erase(key);
      if (hit->second.empty()) index.keys.erase(hit);
    }
    for (const auto& v : after) index.keys[v].insert(key);
    // Most objects are in no value of an index: they take no room in it.
    if (after.empty())
      index.values.erase(key);
    else
      index.values[key] = std::move(after);
  }
}

SharedJson Store::upsert(const Json& object) {
  std::string key = object_key(object);
  Entry fresh = entry_of(object);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = objects_[key];
  SharedJson previous = slot.bytes.empty() ? nullptr : from_cached_form(slot.bytes);
  stored_bytes_ += fresh.bytes.size() - slot.bytes.size();
  slot = std::move(fresh);
  index_locked(key, &object);
  return previous;
}

SharedJson Store::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  SharedJson previous = from_cached_form(it->second.bytes);
  stored_bytes_ -= it->second.bytes.size();
  objects_.erase(it);
  index_locked(key, nullptr);
  return previous;
}

std::vector<SharedJson> Store::remove_locked(Objects::iterator from, Objects::iterator to,
                                             const Objects& keep) {
  std::vector<SharedJson> removed;
  for (auto it = from; it != to;) {
    stored_bytes_ -= it->second.bytes.size();
    if (!keep.count(it->first)) {
      removed.push_back(from_cached_form(it->second.bytes));
      index_locked(it->first, nullptr);
    }
    it = objects_.erase(it);
  }
  return removed;
}

std::vector<SharedJson> Store::replace(const std::vector<Json>& objects) {
  return replace_namespace("", objects);
}

std::vector<SharedJson> Store::replace_namespace(const std::string& ns,
                                                 const std::vector<Json>& objects) {
  Objects fresh;
  std::vector<std::pair<std::string, const Json*>> parsed;
  parsed.reserve(objects.size());
  for (const auto& o : objects) {
    std::string key = object_key(o);
    fresh.emplace(key, entry_of(o));
    parsed.emplace_back(std::move(key), &o);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Everything (ns empty), or the keys of one namespace: "ns/" up to "ns0" ('0' follows '/').
  auto from = ns.empty() ? objects_.begin() : objects_.lower_bound(ns + "/");
  auto to = ns.empty() ? objects_.end() : objects_.lower_bound(ns + "0");
  std::vector<SharedJson> removed = remove_locked(from, to, fresh);
  for (const auto& [key, object] : parsed) index_locked(key, object);
  for (const auto& [k, v] : fresh) stored_bytes_ += v.bytes.size();
  objects_.merge(fresh);
  return removed;
}

}  // namespace byok::runtime
