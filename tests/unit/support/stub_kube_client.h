#pragma once
// A KubeClient whose every call answers "nothing" (an empty object, success): unit tests derive
// from it and override only the calls they script.

#include "controller/kube/client.h"

namespace byok::testing {

class StubKubeClient : public kube::KubeClient {
 public:
  Result<kube::Json> get(const kube::ResourceType&, const std::string&, const std::string&) override {
    return kube::Json();
  }
  Result<kube::Json> list(const kube::ResourceType&, const std::string&, const kube::ListOptions&) override {
    return kube::Json();
  }
  Result<kube::Json> create(const kube::ResourceType&, const std::string&, const kube::Json&,
                            const std::string&, const std::string&) override {
    return kube::Json();
  }
  Result<kube::Json> patch(const kube::ResourceType&, const std::string&, const std::string&,
                           kube::PatchType, const kube::Json&, const kube::PatchOptions&) override {
    return kube::Json();
  }
  Status remove(const kube::ResourceType&, const std::string&, const std::string&,
                const std::string&) override {
    return {};
  }
  Status watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, StopSignal&) override {
    return {};
  }
};

}  // namespace byok::testing
