#pragma once
// Events (events.k8s.io/v1) for what an operator should see. The same event for the same
// object is written once per suppression window, so a failing reconcile does not flood etcd.

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "controller/kube/client.h"

namespace byok::runtime {

struct EventSpec {
  std::string type;    // "Normal" | "Warning"
  std::string reason;  // CamelCase, e.g. "Registered"
  std::string action;  // what the controller did or tried, e.g. "Reconcile"
  std::string note;    // human text; never key material

  bool operator==(const EventSpec&) const = default;
};

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `regarding` is the object the event is about (apiVersion, kind, metadata are read).
  virtual void record(const nlohmann::json& regarding, const EventSpec& event) = 0;
};

class KubeEventRecorder final : public EventRecorder {
 public:
  // An Event's name is the object's and 64 bits drawn from `random`.
  KubeEventRecorder(kube::KubeClient& client, const Clock& clock, Random& random, Logger& log,
                    std::string controller, std::string instance,
                    std::chrono::seconds suppress = std::chrono::minutes(10));
  void record(const nlohmann::json& regarding, const EventSpec& event) override;

 private:
  kube::KubeClient& client_;
  const Clock& clock_;
  Random& random_;
  Logger& log_;
  std::string controller_;
  std::string instance_;
  std::chrono::seconds suppress_;
  std::mutex mu_;
  std::map<std::string, SteadyTime> last_sent_;
};

// MicroTime as events.k8s.io wants it: "2026-11-23T15:38:00.123456Z".
std::string format_micro_time(SystemTime t);

}  // namespace byok::runtime
