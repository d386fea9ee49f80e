#pragma once
// The informer's cache of one kind: the latest object per "namespace/name" key, safe to read
// from many workers while the watcher writes.
//
// Objects are held compact: the cached form serialized as MessagePack (about a fifth of the
// parsed nlohmann::json, which spends a tree node and a heap string per field) and deflated
// (about half again: field names and a condition's message repeat within an object), and parsed
// again on each read (a few microseconds for a CustomerManagedKey). A read hands out its own
// immutable copy (get_shared, by_index), so a reader keeps the version it got while the watcher
// writes the next. metadata.managedFields is dropped on the way in (as client-go's TransformFunc
// examples do): nothing here reads it, and it is often half of an object's size.
//
// Indexes (as controller-runtime's field indexes): a named function maps an object to the
// values it is found under; by_index(name, value) answers with the objects of that value without
// visiting the rest. The values each object was indexed under are kept, so a write re-indexes
// without reading the object it replaces. Add them before the first write.

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
  std::optional<Json> get(const std::string& key) const;
  SharedJson get_shared(const std::string& key) const;  // null when absent
  std::vector<Json> list_namespace(const std::string& ns) const;
  // Calls `fn` on each object of a namespace; `fn` must not call back into the store (the lock
  // is held). Each object is parsed for the call: prefer an index where one answers.
  void visit_namespace(const std::string& ns, const std::function<void(const Json&)>& fn) const;
  std::vector<std::string> keys() const;
  size_t size() const;
  // The cached object's metadata.resourceVersion, without parsing it; nullopt when absent.
  std::optional<std::string> resource_version(const std::string& key) const;
  // The bytes the cached objects take, serialized (what the store's memory grows with).
  size_t stored_bytes() const;

  // Indexes. add_index before the store is written, once per name (else std::logic_error).
  void add_index(const std::string& name, IndexFn fn);
  bool has_index(const std::string& name) const;
  // The objects indexed under `value` (ordered by key); empty for an unknown index or value.
  std::vector<SharedJson> by_index(const std::string& name, const std::string& value) const;
  // Only their keys: nothing is parsed.
  std::vector<std::string> keys_by_index(const std::string& name, const std::string& value) const;

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
  // An index holds each object's key once, as a pointer to the key of its objects_ node (a map
  // node stays put until erased, and an object is taken out of its indexes before its node is
  // erased); the object's entry keeps what it is indexed under, pointing at the index's own
  // value strings: a set node and an entry's pointer pair per indexed object, instead of two
  // copies of its key, a copy of the value and a vector. bench/cmk at 10,000 CMKs (each in the
  // provider index): 1,978 bytes per object steady, 2,249 before.
  struct KeyOrder {
    bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
  };
  struct Index {
    IndexFn fn;
    std::unordered_map<std::string, std::set<const std::string*, KeyOrder>> keys;  // value -> keys
  };
  struct Indexed {
    Index* index;
    const std::string* value;  // the key of index->keys' node
  };
  struct Entry {
    std::string bytes;             // cached_form()
    std::string resource_version;  // metadata.resourceVersion, for a relist's comparisons
    std::vector<Indexed> indexed;  // what the object is indexed under; kept by the store
  };
  using Objects = std::map<std::string, Entry>;  // a namespace's keys are adjacent
  static Entry entry_of(const Json& object);
  // Moves the object at `it` to the values `now` is indexed under (none when `now` is null).
  void index_locked(Objects::iterator it, const Json* now);
  std::vector<SharedJson> remove_locked(Objects::iterator from, Objects::iterator to,
                                        const Objects& keep);

  mutable std::mutex mu_;
  Objects objects_;
  size_t stored_bytes_ = 0;
  std::map<std::string, Index> indexes_;
};

// What the store keeps of an object (managedFields dropped), serialized; and back.
std::string cached_form(const Json& object);
SharedJson from_cached_form(const std::string& bytes);

}  // namespace byok::runtime
