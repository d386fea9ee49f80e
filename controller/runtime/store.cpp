#include "controller/runtime/store.h"

#include <algorithm>
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
  Entry e{cached_form(object), "", {}};
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
  // The entries point into each index's values: an index replaced or added late would leave
  // them pointing at freed strings, or missing from it.
  if (indexes_.count(name) || !objects_.empty())
    throw std::logic_error("Store::add_index(\"" + name +
                           "\"): indexes are added once each, before the first write");
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
  for (const std::string* key : hit->second)
    if (auto it = objects_.find(*key); it != objects_.end())
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
  std::vector<std::string> out;
  out.reserve(hit->second.size());
  for (const std::string* key : hit->second) out.push_back(*key);
  return out;
}

void Store::index_locked(Objects::iterator it, const Json* now) {
  const std::string* key = &it->first;
  // Every index function first: one that throws leaves the indexes as they were (the pointers
  // taken below are all recorded in the entry, or none is).
  std::vector<std::pair<Index*, std::vector<std::string>>> values;
  if (now)
    for (auto& [_, index] : indexes_) values.emplace_back(&index, index.fn(*now));
  std::vector<Indexed> after;
  for (auto& [index_ptr, named] : values) {
    Index& index = *index_ptr;
    for (auto& value : named) {
      auto hit = index.keys.try_emplace(std::move(value)).first;
      hit->second.insert(key);  // nothing when already there (an update)
      Indexed now_under{&index, &hit->first};
      // Once per value: an index function may name one twice, and the removal below must not
      // meet a value node it has already erased.
      if (std::none_of(after.begin(), after.end(), [&](const Indexed& i) {
            return i.index == now_under.index && i.value == now_under.value;
          }))
        after.push_back(now_under);
    }
  }
  for (const Indexed& was : it->second.indexed) {
    bool kept = false;
    for (const Indexed& is : after) kept = kept || (is.index == was.index && is.value == was.value);
    if (kept) continue;
    auto hit = was.index->keys.find(*was.value);
    if (hit == was.index->keys.end()) continue;
    hit->second.erase(key);
    if (hit->second.empty()) was.index->keys.erase(hit);
  }
  // Most objects are in no value of an index: they take no room in it.
  if (after.empty())
    std::vector<Indexed>().swap(it->second.indexed);
  else
    it->second.indexed = std::move(after);
}

SharedJson Store::upsert(const Json& object) {
  std::string key = object_key(object);
  Entry fresh = entry_of(object);
  std::lock_guard<std::mutex> lock(mu_);
  auto slot = objects_.try_emplace(std::move(key)).first;
  Entry& entry = slot->second;
  SharedJson previous = entry.bytes.empty() ? nullptr : from_cached_form(entry.bytes);
  stored_bytes_ += fresh.bytes.size() - entry.bytes.size();
  entry.bytes = std::move(fresh.bytes);
  entry.resource_version = std::move(fresh.resource_version);
  index_locked(slot, &object);
  return previous;
}

SharedJson Store::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  SharedJson previous = from_cached_form(it->second.bytes);
  stored_bytes_ -= it->second.bytes.size();
  index_locked(it, nullptr);  // before the node (whose key the indexes point at) goes
  objects_.erase(it);
  return previous;
}

std::vector<SharedJson> Store::remove_locked(Objects::iterator from, Objects::iterator to,
                                             const Objects& keep) {
  std::vector<SharedJson> removed;
  for (auto it = from; it != to;) {
    stored_bytes_ -= it->second.bytes.size();
    if (!keep.count(it->first)) removed.push_back(from_cached_form(it->second.bytes));
    // Kept or not, the node goes (the fresh list's replaces it): out of the indexes first.
    index_locked(it, nullptr);
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
  std::map<std::string, const Json*> parsed;  // a key listed twice: its last object, as in fresh
  const std::string prefix = ns + "/";
  for (const auto& o : objects) {
    std::string key = object_key(o);
    // An object naming another namespace (which an apiserver does not list for this one) is
    // left out rather than let it land outside the range this relist replaces.
    if (!ns.empty() && key.compare(0, prefix.size(), prefix) != 0) continue;
    fresh.insert_or_assign(key, entry_of(o));
    parsed.insert_or_assign(std::move(key), &o);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Everything (ns empty), or the keys of one namespace: "ns/" up to "ns0" ('0' follows '/').
  auto from = ns.empty() ? objects_.begin() : objects_.lower_bound(prefix);
  auto to = ns.empty() ? objects_.end() : objects_.lower_bound(ns + "0");
  std::vector<SharedJson> removed = remove_locked(from, to, fresh);
  // Every fresh key is free now: merge moves each node, and the indexes point at its key there.
  objects_.merge(fresh);
  for (const auto& [key, object] : parsed) {
    auto it = objects_.find(key);
    stored_bytes_ += it->second.bytes.size();
    index_locked(it, object);
  }
  return removed;
}

}  // namespace byok::runtime
