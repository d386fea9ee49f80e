#pragma once
// An apiserver in memory, with the rules reconcilers rely on: get of a missing object is
// NotFound; create of an existing one is a Conflict; every write bumps metadata.resourceVersion,
// and a write carrying another resourceVersion than the stored one is a Conflict (the guard of
// finalizer patches and status writes); a merge patch merges (RFC 7386) and an apply to the
// status subresource replaces .status. list answers the whole kind (one namespace, or all for
// "") in one page; watch ends at once. Calls ("<verb> <plural>/<namespace>/<name>[/<subresource>]")
// and scripted errors: `log`.
// Tests that need something else derive and override the call.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/kube/client.h"
#include "tests/unit/support/call_log.h"

namespace byok::testing {

class FakeKubeClient : public kube::KubeClient {
 public:
  CallLog log;

  // Stores `object` as the apiserver would hold it (uid and resourceVersion filled in if absent).
  kube::Json put(const kube::ResourceType& t, kube::Json object) {
    auto& m = object["metadata"];
    if (!m.contains("uid")) m["uid"] = "uid-" + m.value("name", std::string());
    if (!m.contains("resourceVersion")) m["resourceVersion"] = std::to_string(++rv_);
    objects_[key(t, m.value("namespace", std::string()), m.value("name", std::string()))] = object;
    return object;
  }
  std::optional<kube::Json> object(const kube::ResourceType& t, const std::string& ns,
                                   const std::string& name) const {
    auto it = objects_.find(key(t, ns, name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }

  Result<kube::Json> get(const kube::ResourceType& t, const std::string& ns,
                         const std::string& name) override {
    if (auto e = log.record("get", key(t, ns, name))) return *e;
    auto o = object(t, ns, name);
    if (!o) return make_error(ErrorKind::NotFound, t.plural + " \"" + name + "\" not found");
    return *o;
  }
  Result<kube::Json> list(const kube::ResourceType& t, const std::string& ns,
                          const kube::ListOptions&) override {
    if (auto e = log.record("list", key(t, ns, ""))) return *e;
    kube::Json items = kube::Json::array();
    const std::string prefix = t.plural + "/" + (t.namespaced ? ns : "");
    for (const auto& [k, o] : objects_)
      if (k.rfind(t.plural + "/", 0) == 0 &&
          (ns.empty() || !t.namespaced || k.rfind(prefix + "/", 0) == 0))
        items.push_back(o);
    return kube::Json{{"metadata", {{"resourceVersion", std::to_string(rv_)}}}, {"items", items}};
  }
  Result<kube::Json> create(const kube::ResourceType& t, const std::string& ns,
                            const kube::Json& object, const std::string& subresource,
                            const std::string& name) override {
    if (auto e =
            log.record("create", key(t, ns, name) + (subresource.empty() ? "" : "/" + subresource)))
      return *e;
    if (!subresource.empty()) return object;  // e.g. a TokenReview: nothing is stored
    kube::Json o = object;
    if (t.namespaced) o["metadata"]["namespace"] = ns;
    const std::string n = o["metadata"].value("name", std::string());
    if (this->object(t, ns, n))
      return make_error(ErrorKind::Conflict, t.plural + " \"" + n + "\" already exists");
    o["metadata"].erase("resourceVersion");
    return put(t, o);
  }
  Result<kube::Json> patch(const kube::ResourceType& t, const std::string& ns,
                           const std::string& name, kube::PatchType type, const kube::Json& body,
                           const kube::PatchOptions& options) override {
    if (auto e =
            log.record("patch", key(t, ns, name) +
                                    (options.subresource.empty() ? "" : "/" + options.subresource)))
      return *e;
    auto it = objects_.find(key(t, ns, name));
    if (it == objects_.end())
      return make_error(ErrorKind::NotFound, t.plural + " \"" + name + "\" not found");
    auto& stored = it->second;
    const std::string want =
        body.contains("metadata") ? body["metadata"].value("resourceVersion", "") : "";
    if (!want.empty() && want != stored["metadata"].value("resourceVersion", ""))
      return make_error(
          ErrorKind::Conflict,
          "the object has been modified; please apply your changes to the latest version");
    if (type == kube::PatchType::Apply && options.subresource == "status") {
      stored["status"] = body.value("status", kube::Json::object());
    } else if (type == kube::PatchType::Merge) {
      kube::Json merged = body;
      if (merged.contains("metadata")) merged["metadata"].erase("resourceVersion");
      stored.merge_patch(merged);
    } else {
      return make_error(ErrorKind::Unsupported, "FakeKubeClient: this patch type is not modelled");
    }
    stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
    return stored;
  }
  Status remove(const kube::ResourceType& t, const std::string& ns, const std::string& name,
                const std::string&) override {
    if (auto e = log.record("remove", key(t, ns, name))) return *e;
    if (!objects_.erase(key(t, ns, name)))
      return make_error(ErrorKind::NotFound, t.plural + " \"" + name + "\" not found");
    return {};
  }
  Status watch(const kube::ResourceType& t, const std::string& ns, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, StopSignal&) override {
    if (auto e = log.record("watch", key(t, ns, ""))) return *e;
    return {};
  }

 private:
  static std::string key(const kube::ResourceType& t, const std::string& ns,
                         const std::string& name) {
    return t.plural + "/" + (t.namespaced ? ns : "") + "/" + name;
  }
  std::map<std::string, kube::Json> objects_;  // by "<plural>/<namespace>/<name>"
  long rv_ = 0;
};

}  // namespace byok::testing
