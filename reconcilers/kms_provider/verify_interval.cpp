#include "reconcilers/kms_provider/verify_interval.h"

#include "common/duration.h"

namespace byok::kmsprovider {

VerifyInterval verify_interval(const runtime::ObjectMeta& meta, std::chrono::seconds floor) {
  VerifyInterval out;
  auto it = meta.annotations.find(kVerifyIntervalAnnotation);
  if (it == meta.annotations.end() || !it->is_string()) return out;
  const std::string text = it->get<std::string>();
  auto d = parse_duration(text);
  if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
    out.problem = std::string("annotation ") + kVerifyIntervalAnnotation + " \"" + text +
                  "\" is not a duration from 1s to 24h (e.g. 90s, 5m, 1h): using 10m";
    return out;
  }
  out.every = *d;
  if (out.every < floor) {
    out.problem = std::string("annotation ") + kVerifyIntervalAnnotation + " \"" + text +
                  "\" is shorter than the operator's minimum of " + std::to_string(floor.count()) +
                  "s (--min-verify-interval): using " + std::to_string(floor.count()) + "s";
    out.every = floor;
  }
  return out;
}

}  // namespace byok::kmsprovider
