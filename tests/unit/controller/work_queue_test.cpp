#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "controller/runtime/backoff.h"
#include "controller/runtime/work_queue.h"

using namespace byok;
using namespace byok::runtime;
using namespace std::chrono_literals;

TEST_CASE("exponential backoff doubles from the base and stops at the cap", "[backoff]") {
  CHECK(exponential_backoff(0, 5ms, 1000s) == 5ms);
  CHECK(exponential_backoff(1, 5ms, 1000s) == 10ms);
  CHECK(exponential_backoff(10, 5ms, 1000s) == 5120ms);
  CHECK(exponential_backoff(40, 5ms, 1000s) == Millis(1000s));
  CHECK(exponential_backoff(1000, 5ms, 1000s) == Millis(1000s));
}

TEST_CASE("jittered backoff stays within half to all of the step", "[backoff]") {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100; ++i) {
    auto d = jittered_backoff(3, 800ms, 30s, rng);
    CHECK(d >= 3200ms);
    CHECK(d <= 6400ms);
  }
}

TEST_CASE("token bucket lets a burst through, then spaces takes at 1/qps", "[backoff]") {
  TokenBucket bucket(10, 2);
  CHECK(bucket.reserve(0) == 0ms);
  CHECK(bucket.reserve(0) == 0ms);
  CHECK(bucket.reserve(0) == 100ms);
  CHECK(bucket.reserve(0) == 200ms);
  CHECK(bucket.reserve(1000) == 0ms);  // refilled
}

TEST_CASE("a key added many times is queued once", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock);
  q.add("ns/a");
  q.add("ns/a");
  q.add("ns/b");
  CHECK(q.stats().depth == 2);
  CHECK(*q.get() == "ns/a");
  CHECK(*q.get() == "ns/b");
}

TEST_CASE("a key being processed is not handed out again until done", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock);
  q.add("k");
  auto k = q.get();
  q.add("k");  // changed while processing: dirty
  CHECK(q.stats().depth == 0);
  q.done(*k);
  CHECK(q.stats().depth == 1);
  CHECK(*q.get() == "k");
}

TEST_CASE("delayed adds keep the earliest deadline", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock);
  q.add_after("k", 10s);
  q.add_after("k", 20ms);
  auto start = std::chrono::steady_clock::now();
  auto k = q.get();
  CHECK(*k == "k");
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("rate-limited adds back off per item and forget resets", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock, WorkQueueOptions{5ms, 1000s, 1000, 1000});
  q.add_rate_limited("k");
  q.add_rate_limited("k");
  CHECK(q.failures("k") == 2);
  q.forget("k");
  CHECK(q.failures("k") == 0);
}

TEST_CASE("a rate-limited add waits at least what the server asked", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock, WorkQueueOptions{5ms, 1000s, 1000, 1000});
  auto start = std::chrono::steady_clock::now();
  q.add_rate_limited("asked", 400ms);  // a Retry-After, longer than the 5 ms backoff
  q.add_rate_limited("plain");
  CHECK(*q.get() == "plain");
  CHECK(std::chrono::steady_clock::now() - start < 300ms);
  q.done("plain");
  CHECK(*q.get() == "asked");
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);
}

TEST_CASE(
    "a key held by a server's Retry-After is not brought back sooner by an earlier resync, an "
    "add, or an add while it is processed",
    "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock, WorkQueueOptions{5ms, 1000s, 1000, 1000});
  auto start = std::chrono::steady_clock::now();
  // A resync was due in 50 ms when the server asked for 400 ms.
  q.add_after("held", 50ms);
  q.add_rate_limited("held", 400ms);
  q.add("held");  // a watch event meanwhile
  q.add("free");
  CHECK(*q.get() == "free");
  q.done("free");
  CHECK(*q.get() == "held");
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  // Throttled again while processing, and an event arrives before done(): still held.
  auto second = std::chrono::steady_clock::now();
  q.add("held");
  q.add_rate_limited("held", 300ms);
  q.done("held");
  q.add_after("held", 10ms);
  CHECK(*q.get() == "held");
  CHECK(std::chrono::steady_clock::now() - second >= 300ms);
  q.done("held");
  // The hold is over: an add is handed out at once.
  auto third = std::chrono::steady_clock::now();
  q.add("held");
  CHECK(*q.get() == "held");
  CHECK(std::chrono::steady_clock::now() - third < 200ms);
}

TEST_CASE("conflict backoff grows per item and ignores the overall bucket", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock, WorkQueueOptions{5ms, 1000s, 0.001, 1});  // a bucket that would block for ages
  auto start = std::chrono::steady_clock::now();
  q.add_rate_limited("a");  // takes the bucket's only token: 5 ms
  q.add_rate_limited("b");  // waits for the bucket: about 1000 s
  q.add_backoff("k");       // 5 ms, bucket or not
  std::set<std::string> got{*q.get(), *q.get()};
  CHECK(got == std::set<std::string>{"a", "k"});
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(q.failures("k") == 1);
}

TEST_CASE("shut down wakes blocked workers", "[workqueue]") {
  RealClock clock;
  WorkQueue q(clock);
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = q.get(); });
  std::this_thread::sleep_for(20ms);
  q.shut_down();
  t.join();
  CHECK_FALSE(got.has_value());
}

namespace {
// Steady time the test moves by hand.
class ManualClock final : public byok::Clock {
 public:
  byok::SystemTime now() const override { return byok::SystemTime{}; }
  byok::SteadyTime steady_now() const override { return byok::SteadyTime{} + elapsed.load(); }
  std::atomic<std::chrono::milliseconds> elapsed{std::chrono::milliseconds(0)};
};
// A namespace is slow after 5 s and may then hold one worker.
WorkQueueOptions fair() {
  WorkQueueOptions options;
  options.max_slow_per_namespace = 1;
  options.slow_after = 5s;
  return options;
}
}  // namespace

TEST_CASE("a namespace whose reconciles are slow holds at most its share of workers",
          "[workqueue][fairness]") {
  ManualClock clock;
  WorkQueue q(clock, fair());
  for (const char* k : {"hostile/a", "hostile/b", "hostile/c", "team-b/x", "cluster-wide"})
    q.add(k);
  CHECK(*q.get() == "hostile/a");
  // Fast work is not held back: a second worker may take another hostile key at once.
  CHECK(*q.get() == "hostile/b");
  clock.elapsed = 6s;  // both are now slow: the namespace holds two workers, its share is one
  CHECK(*q.get() == "team-b/x");
  CHECK(*q.get() == "cluster-wide");
  q.done("hostile/a");  // still one slow hostile worker: hostile/c waits
  std::atomic<bool> got{false};
  std::thread worker([&] {
    auto k = q.get();
    got = k && *k == "hostile/c";
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(got);
  q.done("hostile/b");  // the namespace is below its share: hostile/c is handed out
  worker.join();
  CHECK(got);
}

TEST_CASE("without a fairness limit keys come out in order however slow", "[workqueue][fairness]") {
  ManualClock clock;
  WorkQueue q(clock);
  q.add("hostile/a");
  q.add("hostile/b");
  q.add("team-b/x");
  CHECK(*q.get() == "hostile/a");
  clock.elapsed = 60s;
  CHECK(*q.get() == "hostile/b");
}

TEST_CASE(
    "a namespace that was slow stays limited for slow_memory, however many quick reconciles "
    "it mixes in",
    "[workqueue][fairness]") {
  ManualClock clock;
  auto options = fair();
  options.slow_memory = 60s;
  WorkQueue q(clock, options);
  for (const char* k : {"hostile/a", "hostile/b", "hostile/c", "hostile/d", "team-b/x", "team-b/y"})
    q.add(k);
  CHECK(*q.get() == "hostile/a");
  clock.elapsed = 6s;
  q.done("hostile/a");             // took 6 s: the namespace is slow now
  CHECK(*q.get() == "hostile/b");  // nothing of it in process: its share is free
  // hostile/b has only just started, yet the namespace is known slow: hostile/c waits.
  CHECK(*q.get() == "team-b/x");
  q.done("hostile/b");             // quick, a fast failure: the namespace is still slow
  CHECK(*q.get() == "hostile/c");  // its share is free again
  CHECK(*q.get() == "team-b/y");   // and only its share: hostile/d waits
  q.done("hostile/c");
  clock.elapsed = 6s + 61s;  // a minute without a slow reconcile: the limit lifts
  CHECK(*q.get() == "hostile/d");
  q.add("hostile/e");
  CHECK(*q.get() == "hostile/e");  // a second hostile key at once
}
