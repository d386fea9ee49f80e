#include "controller/runtime/events.h"

#include <cstdio>

namespace byok::runtime {

std::string format_micro_time(SystemTime t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = format_rfc3339(secs);  // ends in 'Z'
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac;
}

KubeEventRecorder::KubeEventRecorder(kube::KubeClient& client, const Clock& clock, Random& random,
                                     Logger& log, std::string controller, std::string instance,
                                     std::chrono::seconds suppress)
    : client_(client),
      clock_(clock),
      random_(random),
      log_(log),
      controller_(std::move(controller)),
      instance_(std::move(instance)),
      suppress_(suppress) {}

void KubeEventRecorder::record(const nlohmann::json& regarding, const EventSpec& event) {
  const auto& md = regarding.at("metadata");
  std::string ns = md.value("namespace", "default");
  std::string uid = md.value("uid", "");
  std::string dedup = uid + "|" + event.type + "|" + event.reason + "|" + event.note;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = clock_.steady_now();
    auto it = last_sent_.find(dedup);
    if (it != last_sent_.end() && now - it->second < suppress_) return;
    last_sent_[dedup] = now;
    if (last_sent_.size() > 10000) last_sent_.clear();  // bounded memory; at worst one repeat
  }
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random_.next()));
  nlohmann::json ev = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", md.value("name", "object") + "." + suffix}, {"namespace", ns}}},
      {"eventTime", format_micro_time(clock_.now())},
      {"reportingController", controller_},
      {"reportingInstance", instance_},
      {"action", event.action},
      {"reason", event.reason},
      {"type", event.type},
      {"note", event.note.substr(0, 1024)},
      {"regarding",
       {{"apiVersion", regarding.value("apiVersion", "")},
        {"kind", regarding.value("kind", "")},
        {"name", md.value("name", "")},
        {"namespace", ns},
        {"uid", uid},
        {"resourceVersion", md.value("resourceVersion", "")}}},
  };
  auto r = client_.create(kube::resources::events(), ns, ev);
  if (!r) log_.warn("event not recorded", {{"reason", event.reason}, {"error", r.error().message}});
}

}  // namespace byok::runtime
