// Leader election: the pure acquire/renew/wait decision (client-go's tryAcquireOrRenew), and the
// elector's rounds against an in-memory Lease with the apiserver's resourceVersion guard.

#include <catch2/catch.hpp>

#include <mutex>
#include <sstream>
#include <atomic>
#include <thread>

#include "controller/runtime/leader_election.h"

using namespace byok;
using namespace byok::runtime;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const SystemTime kWall = SystemTime(std::chrono::seconds(1'800'000'000));  // 2027-01-15T08:00:00Z
const SteadyTime kT0 = SteadyTime(std::chrono::hours(1000));

LeaderElectionConfig config_for(const std::string& identity) {
  LeaderElectionConfig c;
  c.ns = "byok-system";
  c.name = "byok-operator-leader";
  c.identity = identity;
  return c;
}

json lease(json spec, const std::string& rv = "7") {
  return {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata",
       {{"name", "byok-operator-leader"}, {"namespace", "byok-system"}, {"resourceVersion", rv}}},
      {"spec", spec}};
}

json held_by(const std::string& holder, const std::string& renew = "2027-01-15T07:59:59.000000Z",
             int transitions = 3) {
  return {{"holderIdentity", holder},
          {"leaseDurationSeconds", 15},
          {"acquireTime", "2027-01-15T07:00:00.000000Z"},
          {"renewTime", renew},
          {"leaseTransitions", transitions}};
}

}  // namespace

TEST_CASE("leader election: no Lease yet is created, held by me", "[leader]") {
  auto d = decide_lease(std::nullopt, {}, kT0, kWall, config_for("me"));
  CHECK(d.action == LeaseAction::Create);
  CHECK(d.write["metadata"]["name"] == "byok-operator-leader");
  CHECK(d.write["metadata"]["namespace"] == "byok-system");
  CHECK(d.write["kind"] == "Lease");
  CHECK(d.spec == json{{"holderIdentity", "me"},
                       {"leaseDurationSeconds", 15},
                       {"acquireTime", "2027-01-15T08:00:00.000000Z"},
                       {"renewTime", "2027-01-15T08:00:00.000000Z"},
                       {"leaseTransitions", 0}});
  CHECK(d.write["spec"] == d.spec);
}

TEST_CASE(
    "leader election: a Lease another replica holds is waited on until it stays unchanged a lease "
    "duration",
    "[leader]") {
  auto cfg = config_for("me");
  auto current = lease(held_by("other"));
  auto first = decide_lease(current, {}, kT0, kWall, cfg);
  CHECK(first.action == LeaseAction::Wait);
  CHECK(first.holder == "other");
  CHECK(first.wait == 2000ms);  // the retry period
  CHECK(first.observation.since == kT0);
  CHECK(first.write.is_null());

  // Unchanged 14 s later: still held; the next look is at expiry, not a full retry period later.
  auto later = decide_lease(current, first.observation, kT0 + 14s, kWall + 14s, cfg);
  CHECK(later.action == LeaseAction::Wait);
  CHECK(later.observation.since == kT0);
  CHECK(later.wait == 1000ms);

  // Unchanged for the full 15 s: expired, taken over with one more transition.
  auto expired = decide_lease(current, first.observation, kT0 + 15s, kWall + 15s, cfg);
  CHECK(expired.action == LeaseAction::Acquire);
  CHECK(expired.spec["holderIdentity"] == "me");
  CHECK(expired.spec["leaseTransitions"] == 4);
  CHECK(expired.spec["acquireTime"] == "2027-01-15T08:00:15.000000Z");
  CHECK(expired.spec["renewTime"] == "2027-01-15T08:00:15.000000Z");
  CHECK(expired.write["metadata"]["resourceVersion"] == "7");  // guarded: 409 if it moved
}

TEST_CASE("leader election: a renewal by the holder restarts the expiry clock", "[leader]") {
  auto cfg = config_for("me");
  auto first = decide_lease(lease(held_by("other", "2027-01-15T07:59:59.000000Z"), "7"), {}, kT0,
                            kWall, cfg);
  auto renewed = lease(held_by("other", "2027-01-15T08:00:10.000000Z"), "8");
  auto d = decide_lease(renewed, first.observation, kT0 + 10s, kWall + 10s, cfg);
  CHECK(d.action == LeaseAction::Wait);
  CHECK(d.observation.since == kT0 + 10s);
  CHECK(decide_lease(renewed, d.observation, kT0 + 24s, kWall, cfg).action == LeaseAction::Wait);
  CHECK(decide_lease(renewed, d.observation, kT0 + 25s, kWall, cfg).action == LeaseAction::Acquire);
}

TEST_CASE("leader election: the holder's clock never decides expiry (clock skew)", "[leader]") {
  auto cfg = config_for("me");
  // The holder's clock runs an hour behind: its renewTime looks long expired to us, but it keeps
  // changing, so the lease is live.
  auto behind = lease(held_by("other", "2027-01-15T07:00:00.000000Z"), "7");
  auto d = decide_lease(behind, {}, kT0, kWall, cfg);
  CHECK(d.action == LeaseAction::Wait);
  auto behind_renewed = lease(held_by("other", "2027-01-15T07:00:02.000000Z"), "8");
  d = decide_lease(behind_renewed, d.observation, kT0 + 2s, kWall + 2s, cfg);
  CHECK(d.action == LeaseAction::Wait);

  // The holder's clock runs an hour ahead and it died: its renewTime is in our future, yet the
  // lease expires one lease duration after it stopped changing.
  auto ahead = lease(held_by("other", "2027-01-15T09:00:00.000000Z"), "9");
  d = decide_lease(ahead, {}, kT0, kWall, cfg);
  CHECK(d.action == LeaseAction::Wait);
  CHECK(decide_lease(ahead, d.observation, kT0 + 15s, kWall + 15s, cfg).action ==
        LeaseAction::Acquire);
}

TEST_CASE("leader election: my own Lease is renewed, keeping acquireTime and transitions",
          "[leader]") {
  auto d = decide_lease(lease(held_by("me")), {}, kT0, kWall, config_for("me"));
  CHECK(d.action == LeaseAction::Renew);
  CHECK(d.spec["acquireTime"] == "2027-01-15T07:00:00.000000Z");
  CHECK(d.spec["renewTime"] == "2027-01-15T08:00:00.000000Z");
  CHECK(d.spec["leaseTransitions"] == 3);
  CHECK(d.write["metadata"]["resourceVersion"] == "7");
}

TEST_CASE("leader election: a released Lease is taken at once", "[leader]") {
  json released = {{"holderIdentity", ""},
                   {"leaseDurationSeconds", 1},
                   {"acquireTime", "2027-01-15T07:59:59.000000Z"},
                   {"renewTime", "2027-01-15T07:59:59.000000Z"},
                   {"leaseTransitions", 3}};
  auto d = decide_lease(lease(released), {}, kT0, kWall, config_for("me"));
  CHECK(d.action == LeaseAction::Acquire);
  CHECK(d.spec["leaseTransitions"] == 4);
}

TEST_CASE("leader election: missing fields read as client-go reads them", "[leader]") {
  auto cfg = config_for("me");
  SECTION("no spec at all: free") {
    json no_spec = lease(json::object());
    no_spec.erase("spec");
    auto d = decide_lease(no_spec, {}, kT0, kWall, cfg);
    CHECK(d.action == LeaseAction::Acquire);
    CHECK(d.spec["leaseTransitions"] == 1);
    CHECK(d.spec["leaseDurationSeconds"] == 15);
  }
  SECTION("a holder without leaseDurationSeconds: expired") {
    auto d = decide_lease(lease({{"holderIdentity", "other"}}), {}, kT0, kWall, cfg);
    CHECK(d.action == LeaseAction::Acquire);
    CHECK(d.spec["leaseTransitions"] == 1);
  }
  SECTION("null fields: zero values") {
    json spec = {{"holderIdentity", nullptr},
                 {"leaseDurationSeconds", nullptr},
                 {"leaseTransitions", nullptr}};
    CHECK(decide_lease(lease(spec), {}, kT0, kWall, cfg).action == LeaseAction::Acquire);
  }
  SECTION("my Lease without acquireTime gets one") {
    auto d = decide_lease(lease({{"holderIdentity", "me"}, {"leaseDurationSeconds", 15}}), {}, kT0,
                          kWall, cfg);
    CHECK(d.action == LeaseAction::Renew);
    CHECK(d.spec["acquireTime"] == "2027-01-15T08:00:00.000000Z");
    CHECK(d.spec["leaseTransitions"] == 0);
  }
}

TEST_CASE("leader election: release empties the holder, shortens the lease and keeps transitions",
          "[leader]") {
  auto patch = release_patch(lease(held_by("me"), "12"), kWall);
  CHECK(patch == json{{"metadata", {{"resourceVersion", "12"}}},
                      {"spec",
                       {{"holderIdentity", ""},
                        {"leaseDurationSeconds", 1},
                        {"acquireTime", "2027-01-15T08:00:00.000000Z"},
                        {"renewTime", "2027-01-15T08:00:00.000000Z"},
                        {"leaseTransitions", 3}}}});
}

namespace {

// One Lease in memory with the apiserver's rules that matter here: create fails if it exists,
// a merge patch carrying a stale resourceVersion fails with Conflict, each write bumps it.
class LeaseStore : public kube::KubeClient {
 public:
  std::optional<json> lease;
  int rv = 0;
  bool fail_all = false;
  std::atomic<int> stall_ms{
      0};  // a read that hangs this long (an apiserver that stopped answering)
  std::mutex mu;

  Result<json> get(const kube::ResourceType&, const std::string&, const std::string&) override {
    if (int ms = stall_ms.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    std::lock_guard<std::mutex> lock(mu);
    if (fail_all) return make_error(ErrorKind::Unavailable, "apiserver down");
    if (!lease) return make_error(ErrorKind::NotFound, "leases not found");
    return *lease;
  }
  Result<json> create(const kube::ResourceType&, const std::string&, const json& object,
                      const std::string&, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_all) return make_error(ErrorKind::Unavailable, "apiserver down");
    if (lease) return make_error(ErrorKind::Conflict, "already exists");
    lease = object;
    (*lease)["metadata"]["resourceVersion"] = std::to_string(++rv);
    return *lease;
  }
  Result<json> patch(const kube::ResourceType&, const std::string&, const std::string&,
                     kube::PatchType, const json& body, const kube::PatchOptions&) override {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_all) return make_error(ErrorKind::Unavailable, "apiserver down");
    if (!lease) return make_error(ErrorKind::NotFound, "leases not found");
    if (body["metadata"].value("resourceVersion", "") !=
        (*lease)["metadata"].value("resourceVersion", ""))
      return make_error(ErrorKind::Conflict, "the object has been modified");
    lease->merge_patch(body);
    (*lease)["metadata"]["resourceVersion"] = std::to_string(++rv);
    return *lease;
  }
  std::string holder() {
    std::lock_guard<std::mutex> lock(mu);
    return lease ? (*lease)["spec"].value("holderIdentity", "") : "";
  }
  Result<json> list(const kube::ResourceType&, const std::string&,
                    const kube::ListOptions&) override {
    return json::object();
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

LeaderElectionConfig fast(const std::string& identity) {
  auto c = config_for(identity);
  c.lease_duration = 1s;
  c.renew_deadline = 600ms;
  c.retry_period = 100ms;
  return c;
}

// Electors on one LeaseStore with short timings (lease 1 s, renew deadline 600 ms, retry 100 ms).
struct Electors {
  LeaseStore store;
  RealClock clock;
  std::ostringstream sink;
  Logger log{sink};
  metrics::Registry registry;
  StopSignal never;

  LeaderElector make(const std::string& identity) {
    return LeaderElector(store, clock, log, fast(identity), &registry);
  }
  // An elector that holds the Lease already.
  std::unique_ptr<LeaderElector> leader(const std::string& identity) {
    auto elector = std::make_unique<LeaderElector>(store, clock, log, fast(identity), &registry);
    REQUIRE(elector->acquire(never));
    return elector;
  }
};

}  // namespace

TEST_CASE("leader election: one elector leads, a second waits, takes over after release",
          "[leader]") {
  Electors e;
  auto& store = e.store;
  auto& never = e.never;
  LeaderElector a = e.make("a");
  LeaderElector b = e.make("b");

  REQUIRE(a.acquire(never));
  CHECK(a.leading());
  CHECK(store.holder() == "a");
  CHECK(e.registry.render().find(
            "leader_election_master_status{name=\"byok-operator-leader\"} 1") != std::string::npos);

  StopSignal a_done;
  bool still_leading = false;  // Catch assertions stay on the test's thread
  std::thread renewing([&] { still_leading = a.keep_renewing(a_done); });
  StopSignal b_gives_up;
  std::thread give_up([&] {
    std::this_thread::sleep_for(1500ms);  // longer than a lease duration: a's renewals keep it
    b_gives_up.request_stop();
  });
  CHECK_FALSE(b.acquire(b_gives_up));
  CHECK_FALSE(b.leading());
  give_up.join();

  a_done.request_stop();
  renewing.join();
  CHECK(still_leading);
  a.release();
  CHECK_FALSE(a.leading());
  CHECK(store.holder() == "");
  auto started = std::chrono::steady_clock::now();
  REQUIRE(b.acquire(never));
  CHECK(std::chrono::steady_clock::now() - started < 500ms);  // a released lease is free at once
  CHECK(store.holder() == "b");
  CHECK((*store.lease)["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("leader election: a leader that cannot renew within the deadline gives up", "[leader]") {
  Electors e;
  auto a = e.leader("a");
  e.store.fail_all = true;
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(a->keep_renewing(e.never));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 600ms);
  CHECK(took < 1000ms);  // before the lease (1 s) can expire for anyone else
  CHECK_FALSE(a->leading());
  CHECK(e.sink.str().find("leader election lost") != std::string::npos);
}

TEST_CASE("leader election: a leader whose Lease was taken gives up at the next renewal",
          "[leader]") {
  Electors e;
  auto a = e.leader("a");
  {
    std::lock_guard<std::mutex> lock(e.store.mu);
    (*e.store.lease)["spec"]["holderIdentity"] = "intruder";
    (*e.store.lease)["metadata"]["resourceVersion"] = std::to_string(++e.store.rv);
  }
  CHECK_FALSE(a->keep_renewing(e.never));
  CHECK(e.sink.str().find("intruder") != std::string::npos);
}

TEST_CASE("leader election: the renew deadline holds while a renewal request hangs", "[leader]") {
  Electors e;
  auto a = e.leader("a");
  StopSignal renew_done, watch_done;
  std::thread renewing([&] { a->keep_renewing(renew_done); });
  std::this_thread::sleep_for(250ms);  // a couple of good renewals
  e.store.stall_ms = 3000;             // the next read hangs far past the deadline (600 ms)
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(a->watch_renew_deadline(watch_done));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 800ms);  // deadline from the last renewal's start, checked every 10 ms
  CHECK_FALSE(a->leading());
  CHECK(e.sink.str().find("a lease request is still hanging") != std::string::npos);
  e.store.stall_ms = 0;
  renew_done.request_stop();
  renewing.join();

  // A leader that renews keeps watching until told to stop.
  auto b = e.leader("b2");
  StopSignal b_renew, b_watch;
  std::thread b_renewing([&] { b->keep_renewing(b_renew); });
  std::thread stopper([&] {
    std::this_thread::sleep_for(1200ms);  // past the deadline twice over, renewing all along
    b_watch.request_stop();
  });
  CHECK(b->watch_renew_deadline(b_watch));
  stopper.join();
  b_renew.request_stop();
  b_renewing.join();
}
