#pragma once
// The informer's cache of one kind: the latest object per "namespace/name" key, safe to read
// from many workers while the watcher writes.
//
// Objects are held as shared immutable JSON: a read hands out a reference (get_shared, by_index)
// instead of a copy, and a writer replaces the pointer, so a reader keeps the version it got.
// metadata.managedFields is dropped on the way in (as client-go's TransformFunc examples do):
// nothing here reads it, and it is often half of an object's size.
//
// Indexes (as controller-runtime's field indexes): a named function maps an object to the
// values it is found under; by_index(name, value) answers with the objects of that value without
// visiting the rest. Add them before the first write.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace byok::runtime {

using Json = nlohmann::json;
using SharedJson = std::shared_ptr<const Json>;

std::string object_key(const Json& object);  // "namespace/name", or "name" when cluster-scoped
std::pair<std::string, std::string> split_key(const std::string& key);  // {namespace, name}

// The values an object is indexed under (none: not in that index).
using IndexFn = std::function<std::vector<std::string>(const Json& object)>;

class Store {
 public:
  std::optional<Json> get(const std::string& key) const;  // a copy
  SharedJson get_shared(const std::string& key) const;    // null when absent
  std::vector<Json> list_namespace(const std::string& ns) const;
  // Calls `fn` on each object of a namespace without copying it; `fn` must not call back into
  // the store (the lock is held).
  void visit_namespace(const std::string& ns, const std::function<void(const Json&)>& fn) const;
  std::vector<std::string> keys() const;
  size_t size() const;

  // Indexes. add_index before the store is written (an index added later sees only later writes).
  void add_index(const std::string& name, IndexFn fn);
  bool has_index(const std::string& name) const;
  // The objects indexed under `value` (ordered by key); empty for an unknown index or value.
  std::vector<SharedJson> by_index(const std::string& name, const std::string& value) const;

  // Writers (the informer).
  SharedJson upsert(const Json& object);  // returns the previous object, if any
  SharedJson erase(const std::string& key);
  // Replaces everything with a fresh list; returns the removed objects.
  std::vector<SharedJson> replace(const std::vector<Json>& objects);
  // The same for one namespace's objects only (an informer of several namespaces relists each
  // on its own); the other namespaces' objects stay.
  std::vector<SharedJson> replace_namespace(const std::string& ns,
                                            const std::vector<Json>& objects);

 private:
  struct Index {
    IndexFn fn;
    std::unordered_map<std::string, std::set<std::string>> keys;  // value -> object keys
  };
  void index_locked(const std::string& key, const Json* old, const Json* now);

  mutable std::mutex mu_;
  std::map<std::string, SharedJson> objects_;  // ordered: a namespace's objects are adjacent
  std::map<std::string, Index> indexes_;
};

// What the store keeps of an object (managedFields dropped).
SharedJson cached_form(const Json& object);

}  // namespace byok::runtime
