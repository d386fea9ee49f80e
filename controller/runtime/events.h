#pragma once
// Events (events.k8s.io/v1) for what an operator should see. The same event for the same
// object is written once per suppression window, so a failing reconcile does not flood etcd.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <thread>
#include <unordered_set>

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
  // An Event's name is the object's and 64 bits drawn from `random`. A repeat (same object,
  // type, reason and note) within `suppress` is not sent; 0 sends every one (audit records).
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
  // When each Event was last sent, to send no repeat within `suppress_`. Keyed by a 64-bit hash
  // of (a per-process random salt, object uid, type, reason, note), since a note may be long and
  // there are a few per object. A collision costs one advisory Event not sent; the salt and the
  // uid (which only the object's readers see) keep a tenant from aiming one at another's Events,
  // and audit records go through a recorder that suppresses nothing.
  std::string salt_;
  std::unordered_map<std::uint64_t, SteadyTime> last_sent_;
};

// Sends Events from a thread of its own, as client-go's recorder does, so a worker never waits
// on an Event's POST. Bounded: at most `capacity` wait; when full, the new one is dropped and
// counted (Events are advice, not a record: a full queue means the apiserver is slow, and
// waiting would slow the workers with it). Repeats aggregate: an Event equal to one still
// waiting (same object uid, type, reason and note) is not queued twice. Only what an Event
// reads of the object (apiVersion, kind, name, namespace, uid, resourceVersion) is kept.
// Not for audit records: those must not be dropped; record them on the sink directly.
class AsyncEventRecorder final : public EventRecorder {
 public:
  AsyncEventRecorder(EventRecorder& sink, Logger& log, size_t capacity = 1024);
  // Stops the thread; Events still waiting are dropped (shutdown must not wait on a dead
  // apiserver).
  ~AsyncEventRecorder() override;
  AsyncEventRecorder(const AsyncEventRecorder&) = delete;
  AsyncEventRecorder& operator=(const AsyncEventRecorder&) = delete;

  void record(const nlohmann::json& regarding, const EventSpec& event) override;
  // Waits until every Event queued so far has been handed to the sink (tests).
  void flush();
  uint64_t dropped() const;
  uint64_t aggregated() const;
  size_t waiting() const;

 private:
  struct Pending {
    nlohmann::json regarding;
    EventSpec event;
    std::string dedup;
  };
  void run();

  EventRecorder& sink_;
  Logger& log_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Pending> queue_;
  std::unordered_set<std::string> pending_;  // dedup keys of queued Events
  bool sending_ = false;
  bool stopping_ = false;
  uint64_t dropped_ = 0;
  uint64_t aggregated_ = 0;
  std::thread thread_;
};

// MicroTime as events.k8s.io wants it: "2026-11-23T15:38:00.123456Z".
std::string format_micro_time(SystemTime t);

}  // namespace byok::runtime
