#pragma once
// The test's view of the shared control plane that tests/harness/control-plane.sh started:
// a client from $KUBECONFIG, a fresh namespace per test, and polling with a deadline.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "controller/kube/rest_client.h"

namespace byok::testing {

// Fails the calling test (throws) when KUBECONFIG is not set: integration tests run under ctest,
// whose fixture starts the control plane.
std::unique_ptr<kube::RestKubeClient> connect_from_env();
std::string kubeconfig_path();

// Creates a namespace with a unique name starting with `prefix`; namespaces are never deleted
// (the harness has no namespace controller), which also keeps them for a post-mortem.
std::string create_namespace(kube::KubeClient& client, const std::string& prefix);

// Polls `check` every 100 ms until it returns true or `timeout` passes; returns the last answer.
bool wait_until(const std::function<bool()>& check,
                std::chrono::milliseconds timeout = std::chrono::seconds(30),
                std::chrono::milliseconds poll = std::chrono::milliseconds(100));

// The `field` ("reason", "status", "message") of condition `type` in a status object; empty
// when there is no such condition.
std::string condition_field(const nlohmann::json& status, const std::string& type,
                            const std::string& field = "reason");

// How many events.k8s.io Events about object `name` with `reason` the apiserver holds.
int count_events(kube::KubeClient& client, const std::string& ns, const std::string& name,
                 const std::string& reason);
// The same, once at least one has arrived or `timeout` passed: a reconciler's Events go out
// from its recorder's thread, a moment after the status that goes with them.
int count_arrived_events(kube::KubeClient& client, const std::string& ns, const std::string& name,
                         const std::string& reason,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The status of an object, or an empty object when it has none (or cannot be read).
nlohmann::json status_of(kube::KubeClient& client, const kube::ResourceType& type,
                         const std::string& ns, const std::string& name);

// A kubeconfig at `path` (mode 0600) that acts as ServiceAccount ns/service_account, with a
// token from the TokenRequest API and nothing else of the admin's; returns `path`.
std::string service_account_kubeconfig(kube::KubeClient& admin, const std::string& ns,
                                       const std::string& service_account, const std::string& path);

}  // namespace byok::testing
