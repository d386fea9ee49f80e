#pragma once
// One object read from the apiserver at most once, for the checks of one reconcile that may
// share a read (a GET, so as fresh as the moment of the first check): the first get() asks the
// apiserver, later ones return that same answer, an error included. Made per reconcile and
// dropped with it; a check that must see the cluster as it is at its own moment (e.g. the last
// authorization before key material leaves the HSM) reads anew instead of asking this.

#include <optional>
#include <string>

#include "common/result.h"
#include "controller/kube/client.h"

namespace byok::runtime {

class ReadOnce {
 public:
  ReadOnce(kube::KubeClient& client, kube::ResourceType type, std::string ns, std::string name)
      : client_(client), type_(std::move(type)), ns_(std::move(ns)), name_(std::move(name)) {}

  const Result<kube::Json>& get() {
    if (!read_) read_ = client_.get(type_, ns_, name_);
    return *read_;
  }
  const std::string& name() const { return name_; }

 private:
  kube::KubeClient& client_;
  kube::ResourceType type_;
  std::string ns_;
  std::string name_;
  std::optional<Result<kube::Json>> read_;
};

}  // namespace byok::runtime
