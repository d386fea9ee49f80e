#pragma once
// The informer's cache of one kind: the latest object per "namespace/name" key, safe to read
// from many workers while the watcher writes.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byok::runtime {

using Json = nlohmann::json;

std::string object_key(const Json& object);  // "namespace/name", or "name" when cluster-scoped
std::pair<std::string, std::string> split_key(const std::string& key);  // {namespace, name}

class Store {
 public:
  std::optional<Json> get(const std::string& key) const;
  std::vector<Json> list_namespace(const std::string& ns) const;
  // Calls `fn` on each object of a namespace without copying it; `fn` must not call back into
  // the store (the lock is held).
  void visit_namespace(const std::string& ns, const std::function<void(const Json&)>& fn) const;
  std::vector<std::string> keys() const;
  size_t size() const;

  // Writers (the informer).
  std::optional<Json> upsert(const Json& object);  // returns the previous object, if any
  std::optional<Json> erase(const std::string& key);
  // Replaces everything with a fresh list; returns the removed objects.
  std::vector<Json> replace(const std::vector<Json>& objects);
  // The same for one namespace's objects only (an informer of several namespaces relists each
  // on its own); the other namespaces' objects stay.
  std::vector<Json> replace_namespace(const std::string& ns, const std::vector<Json>& objects);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Json> objects_;  // ordered: a namespace's objects are adjacent
};

}  // namespace byok::runtime
