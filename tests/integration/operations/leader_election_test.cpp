// Two operators with --leader-elect against the real apiserver: one leads and reconciles, the
// other keeps warm caches and reconciles nothing; kill -9 the leader and the other takes over
// within a lease duration and a retry period; a graceful stop hands the Lease over at once.

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "controller/kube/resource.h"
#include "tests/harness/cluster.h"
#include "tests/integration/operations/operations_support.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

using namespace byok;
using byok::kube::Json;
using SteadyClock = std::chrono::steady_clock;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();
const auto kLease = kube::resources::leases();
const char kLeaseName[] = "byok-operator-leader";
// client-go's defaults, which the operator uses.
const auto kLeaseDuration = std::chrono::seconds(15);
const auto kRetryPeriod = std::chrono::seconds(2);

struct Candidate : testing::RunningOperator {
  Candidate(const std::string& ns, const std::string& name)
      : RunningOperator(ns, name, {"--leader-elect"}) {}

  // The identity this process campaigns with, from its log.
  std::string identity() const {
    auto r = records("attempting to acquire the leader election lease");
    return r.empty() ? "" : r.front().value("identity", "");
  }
  bool leading() const {
    return testing::sample_sum(scrape(), "leader_election_master_status",
                               {"name=\"byok-operator-leader\""}) == 1;
  }
  double reconciles() const {
    return testing::sample_sum(scrape(), "controller_runtime_reconcile_total");
  }
  // Positions in the log: every "reconciling" record comes after "acquired" (-1 when absent).
  long first(const std::string& msg) const {
    auto all = records();
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i].value("msg", "") == msg) return static_cast<long>(i);
    return -1;
  }
};

Json lease_spec(kube::KubeClient& c, const std::string& ns) {
  auto l = c.get(kLease, ns, kLeaseName);
  return l ? (*l)["spec"] : Json::object();
}

bool ready(const testing::RunningOperator& op) {
  return testing::http_get(op.probe_port, "/readyz").status == 200;
}

}  // namespace

TEST_CASE(
    "two operators with leader election: only the leader reconciles and kill -9 hands over within "
    "the lease",
    "[integration][operations][leader]") {
  auto client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns = testing::create_namespace(c, "ops-leader");
  // No --leader-election-namespace and no POD_NAMESPACE: the Lease lives in the watched namespace.
  Candidate a(ns, "a");
  REQUIRE(testing::wait_until([&] { return a.leading(); }));
  Candidate b(ns, "b");
  INFO("logs: " << a.log_path << " " << b.log_path);
  REQUIRE(testing::wait_until([&] { return ready(b) && !b.identity().empty(); }));

  Json spec = lease_spec(c, ns);
  CHECK(spec.value("holderIdentity", "") == a.identity());
  CHECK(spec.value("leaseDurationSeconds", 0) == 15);
  CHECK(spec.value("leaseTransitions", -1) == 0);
  CHECK(a.identity() != b.identity());

  // A change made while both run is handled by the leader alone.
  REQUIRE(c.create(kCmk, ns, testing::cmk_without_provider("alpha")).ok());
  REQUIRE(testing::wait_until([&] {
    return testing::condition_field(testing::status_of(c, kCmk, ns, "alpha"), "Ready") ==
           "ProviderNotFound";
  }));
  std::this_thread::sleep_for(
      std::chrono::seconds(1));  // would the follower have reacted, it has now
  CHECK_FALSE(a.records("reconciling", "alpha").empty());
  CHECK(b.records("reconciling").empty());
  CHECK(b.reconciles() == 0);
  CHECK_FALSE(b.leading());
  REQUIRE(a.first("acquired the leader election lease") >= 0);
  CHECK(a.first("acquired the leader election lease") < a.first("reconciling"));

  // The leader dies without a word; the follower takes over once the Lease has gone unrenewed
  // for a lease duration, which it notices within a retry period.
  a.process->kill_hard();
  auto killed = SteadyClock::now();
  REQUIRE(testing::wait_until(
      [&] { return lease_spec(c, ns).value("holderIdentity", "") == b.identity(); },
      std::chrono::seconds(30), std::chrono::milliseconds(50)));
  auto took = SteadyClock::now() - killed;
  INFO("takeover after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms");
  // (+ 1 s for request round trips and this test's polling on two busy cores)
  CHECK(took <= kLeaseDuration + kRetryPeriod + std::chrono::seconds(1));
  // ... and not before the dead leader's last renewal (at most a retry period before the kill)
  // could have expired (- 0.5 s for round trips).
  CHECK(took >= kLeaseDuration - kRetryPeriod - std::chrono::milliseconds(500));
  CHECK(lease_spec(c, ns).value("leaseTransitions", -1) == 1);

  // The new leader reconciles what exists and what changes; it started no reconcile before it
  // held the Lease, which was after the old leader was gone.
  REQUIRE(testing::wait_until([&] { return !b.records("reconciling", "alpha").empty(); }));
  REQUIRE(c.create(kCmk, ns, testing::cmk_without_provider("beta")).ok());
  REQUIRE(testing::wait_until([&] { return !b.records("reconciled", "beta").empty(); }));
  REQUIRE(b.first("acquired the leader election lease") >= 0);
  CHECK(b.first("acquired the leader election lease") < b.first("reconciling"));
  CHECK(b.leading());

  // A graceful stop releases the Lease: a new follower takes it at its next look, not after
  // a lease duration.
  Candidate d(ns, "d");
  REQUIRE(testing::wait_until([&] { return ready(d) && !d.identity().empty(); }));
  CHECK(b.process->terminate() == 0);
  auto released = SteadyClock::now();
  Json after_release = lease_spec(c, ns);
  CHECK((after_release.value("holderIdentity", "") == "" ||
         after_release.value("holderIdentity", "") == d.identity()));
  REQUIRE(testing::wait_until(
      [&] { return lease_spec(c, ns).value("holderIdentity", "") == d.identity(); },
      std::chrono::seconds(10), std::chrono::milliseconds(50)));
  CHECK(SteadyClock::now() - released <= kRetryPeriod + std::chrono::seconds(1));
  CHECK(lease_spec(c, ns).value("leaseTransitions", -1) == 2);
  CHECK(d.process->terminate() == 0);
}
