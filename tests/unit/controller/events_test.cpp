// AsyncEventRecorder: a worker never waits on the sink; repeats aggregate; a full queue drops
// and counts.

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <sstream>

#include "controller/runtime/events.h"

using namespace byok;
using namespace byok::runtime;
using Json = nlohmann::json;

namespace {

// A sink whose record() blocks until released, so a test controls what is in flight.
struct GatedSink : EventRecorder {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  std::vector<std::pair<Json, EventSpec>> got;
  void record(const Json& regarding, const EventSpec& e) override {
    std::unique_lock<std::mutex> lock(mu);
    entered++;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
    got.emplace_back(regarding, e);
  }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  std::vector<std::string> notes() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (const auto& [o, e] : got) out.push_back(e.note);
    return out;
  }
};

Json object(const std::string& name) {
  return {{"apiVersion", "byok.dev/v1alpha1"},
          {"kind", "CustomerManagedKey"},
          {"metadata", {{"name", name}, {"namespace", "team"}, {"uid", "uid-" + name}}},
          {"spec", {{"resource", "big"}}},
          {"status", {{"status", "current"}}}};
}

EventSpec note(const std::string& n) { return {"Normal", "Registered", "Register", n}; }

}  // namespace

TEST_CASE("async events: record returns while the sink is busy, and repeats aggregate",
          "[events]") {
  GatedSink sink;
  std::ostringstream lines;
  Logger log{lines};
  AsyncEventRecorder events(sink, log, 16);
  events.record(object("a"), note("first"));
  sink.wait_entered(1);  // "first" is in flight, the sink blocked
  for (int i = 0; i < 5; ++i) events.record(object("a"), note("again"));  // does not block
  events.record(object("b"), note("again"));  // another object: not a repeat
  CHECK(events.waiting() == 2);
  CHECK(events.aggregated() == 4);
  sink.release();
  events.flush();
  CHECK(sink.notes() == std::vector<std::string>{"first", "again", "again"});
  CHECK(events.dropped() == 0);
  // Only what an Event reads of the object went to the sink.
  std::lock_guard<std::mutex> lock(sink.mu);
  const Json& sent = sink.got[0].first;
  CHECK(sent["metadata"]["uid"] == "uid-a");
  CHECK(sent["kind"] == "CustomerManagedKey");
  CHECK_FALSE(sent.contains("spec"));
  CHECK_FALSE(sent.contains("status"));
}

TEST_CASE("async events: a full queue drops new Events and counts them", "[events]") {
  GatedSink sink;
  std::ostringstream lines;
  Logger log{lines};
  AsyncEventRecorder events(sink, log, 2);
  events.record(object("a"), note("in flight"));
  sink.wait_entered(1);
  for (const char* n : {"q1", "q2", "d1", "d2"}) events.record(object("a"), note(n));
  CHECK(events.waiting() == 2);
  CHECK(events.dropped() == 2);
  CHECK(lines.str().find("event queue full") != std::string::npos);
  sink.release();
  events.flush();
  CHECK(sink.notes() == std::vector<std::string>{"in flight", "q1", "q2"});
  // Once drained, there is room again.
  events.record(object("a"), note("later"));
  events.flush();
  CHECK(sink.notes().back() == "later");
}
