#include <catch2/catch.hpp>

#include "common/duration.h"
#include "reconcilers/customer_managed_key/cmk_plan.h"
#include "reconcilers/customer_managed_key/cmk_reconciler.h"

using namespace byok;
using namespace byok::cmk;

namespace {

Cmk make(const std::string& name, const std::string& created, bool is_default = false,
         const std::string& provider = "aws", const std::string& replaces = "") {
  Cmk c;
  c.meta.name = name;
  c.meta.namespace_ = "team";
  c.meta.generation = 1;
  c.meta.creation_timestamp = created;
  c.meta.finalizers = {kFinalizer};
  c.meta.resource_version = "1";
  c.spec.provider = provider;
  c.spec.resource = "arn:aws:kms:eu-west-1:111122223333:key/" + name;
  c.spec.is_default = is_default;
  c.spec.replaces = replaces;
  return c;
}

CmkInputs inputs(const Cmk& cmk, std::vector<CmkPeer> peers, const std::string& now,
                 const std::string& fresh_id) {
  CmkInputs in;
  in.cmk = cmk;
  in.peers = std::move(peers);
  in.now = now;
  in.fresh_id = fresh_id;
  return in;
}

// What describe_key returns for a usable AWS key.
KeyCheck found(const std::string& state = "Enabled", const std::string& usage = "ENCRYPT_DECRYPT") {
  KeyCheck check;
  kms::KeyDescription key;
  key.state = state;
  key.key_usage = usage;
  key.key_spec = "SYMMETRIC_DEFAULT";
  check.key = key;
  check.accessor = "arn:aws:iam::111122223333:user/byok";
  return check;
}

KeyCheck failed(ErrorKind kind, const std::string& message,
                kmsprovider::ProviderProblem problem = kmsprovider::ProviderProblem::None) {
  KeyCheck check;
  check.error = Error{kind, message};
  check.provider_problem = problem;
  return check;
}

CmkPlan plan_for(const Cmk& self, std::vector<Cmk> others = {}, const std::string& now = "T9",
                 std::optional<KeyCheck> check = found()) {
  CmkInputs in = inputs(self, {}, now, "11111111-2222-4333-8444-555555555555");
  in.check = std::move(check);
  in.peers.push_back(peer_of(self));
  for (const auto& o : others) in.peers.push_back(peer_of(o));
  return plan_cmk(in);
}

const runtime::Condition& cond(const CmkStatus& s, const std::string& type) {
  auto* c = runtime::find_condition(s.conditions, type);
  REQUIRE(c != nullptr);
  return *c;
}

}  // namespace

TEST_CASE("a new CMK gets the finalizer first and nothing else", "[cmk]") {
  auto c = make("a", "T1");
  c.meta.finalizers = {"someone.else/keep"};
  auto p = plan_for(c);
  CHECK(p.add_finalizer);
  CHECK_FALSE(p.status.has_value());
  CHECK(p.events.empty());
}

TEST_CASE("first reconcile assigns id, timestamps, current and the conditions", "[cmk]") {
  auto p = plan_for(make("a", "T1"));
  REQUIRE(p.status);
  CHECK(p.status->id == "11111111-2222-4333-8444-555555555555");
  CHECK(p.status->status == "current");
  CHECK(p.status->created_at == "T1");
  CHECK(p.status->updated_at == "T9");
  CHECK(p.status->observed_generation == 1);
  CHECK(p.status->key_state == "Enabled");
  CHECK(p.status->last_verified_at == "T9");
  CHECK(p.status->accessor == "arn:aws:iam::111122223333:user/byok");
  CHECK(cond(*p.status, "Ready").status == "True");
  CHECK(cond(*p.status, "Ready").reason == "KeyUsable");
  CHECK(cond(*p.status, "KeyVerified").status == "True");
  CHECK(cond(*p.status, "KeyVerified").reason == "KeyFound");
  REQUIRE(p.events.size() == 2);
  CHECK(p.events[0].reason == "Registered");
  CHECK(p.events[1].reason == "KeyVerified");
}

TEST_CASE("a reconciled CMK with nothing new plans no write and keeps its id", "[cmk]") {
  auto c = make("a", "T1");
  c.status = *plan_for(c).status;
  auto again = plan_for(c, {}, "T50", std::nullopt);  // no verification due
  CHECK_FALSE(again.status.has_value());
  CHECK(again.events.empty());
  CmkInputs in = inputs(c, {peer_of(c)}, "T60", "another-id");
  c.meta.generation = 2;  // a spec change
  in.cmk = c;
  auto p = plan_cmk(in);
  REQUIRE(p.status);
  CHECK(p.status->id == "11111111-2222-4333-8444-555555555555");
  CHECK(p.status->updated_at == "T60");
  CHECK(p.status->observed_generation == 2);
}

TEST_CASE("of several default claimers the most recently created wins", "[cmk][default]") {
  auto older = make("older", "2026-01-01T00:00:00Z", true);
  auto newer = make("newer", "2026-02-01T00:00:00Z", true);
  auto plain = make("plain", "2026-03-01T00:00:00Z", false);
  auto po = plan_for(older, {newer, plain});
  auto pn = plan_for(newer, {older, plain});
  auto pp = plan_for(plain, {older, newer});
  CHECK_FALSE(po.status->is_default);
  CHECK(cond(*po.status, "Default").reason == "DefaultClaimedByNewer");
  CHECK(cond(*po.status, "Default").message.find("newer") != std::string::npos);
  CHECK(pn.status->is_default);
  CHECK(cond(*pn.status, "Default").status == "True");
  CHECK_FALSE(pp.status->is_default);
  CHECK(runtime::find_condition(pp.status->conditions, "Default") == nullptr);
}

TEST_CASE("equal creation times break the default tie by name, the same for everyone",
          "[cmk][default]") {
  auto a = make("a", "T1", true), b = make("b", "T1", true);
  CHECK_FALSE(plan_for(a, {b}).status->is_default);
  CHECK(plan_for(b, {a}).status->is_default);
}

TEST_CASE("a CMK being deleted gives up the default", "[cmk][default]") {
  auto older = make("older", "T1", true);
  auto newer = make("newer", "T2", true);
  newer.meta.deleting = true;
  CHECK(plan_for(older, {newer}).status->is_default);
}

TEST_CASE("a CMK named in a live peer's replaces of the same provider is old", "[cmk][replaces]") {
  auto old_key = make("k1", "T1");
  auto new_key = make("k2", "T2", false, "aws", "k1");
  auto p = plan_for(old_key, {new_key});
  CHECK(p.status->status == "old");
  CHECK(cond(*p.status, "Ready").reason == "Superseded");
  auto pn = plan_for(new_key, {old_key});
  CHECK(pn.status->status == "current");
  CHECK(cond(*pn.status, "Replacing").status == "True");

  SECTION("a replacer of another provider does not count") {
    auto gcp = make("g", "T3", false, "gcp", "k1");
    CHECK(plan_for(old_key, {gcp}).status->status == "current");
    CHECK(cond(*plan_for(gcp, {old_key}).status, "Replacing").reason == "ProviderMismatch");
  }
  SECTION("a replacer being deleted does not count") {
    new_key.meta.deleting = true;
    CHECK(plan_for(old_key, {new_key}).status->status == "current");
  }
}

TEST_CASE("replaces naming a missing CMK is reported", "[cmk][replaces]") {
  auto c = make("k2", "T2", false, "aws", "ghost");
  auto p = plan_for(c);
  auto& r = cond(*p.status, "Replacing");
  CHECK(r.status == "False");
  CHECK(r.reason == "ReplacedKeyNotFound");
  CHECK(r.message.find("ghost") != std::string::npos);
}

TEST_CASE("a status change emits an event and moves updatedAt", "[cmk]") {
  auto old_key = make("k1", "T1");
  old_key.status = *plan_for(old_key, {}, "T5").status;
  auto p = plan_for(old_key, {make("k2", "T2", false, "aws", "k1")}, "T7");
  REQUIRE(p.status);
  CHECK(p.status->status == "old");
  CHECK(p.status->updated_at == "T7");
  bool saw = false;
  for (auto& e : p.events) saw |= e.reason == "StatusChanged";
  CHECK(saw);
}

TEST_CASE("deletion marks deleted and releases only our finalizer", "[cmk][delete]") {
  auto c = make("a", "T1", true);
  c.status = *plan_for(c).status;
  c.meta.deleting = true;
  auto p = plan_for(c);
  REQUIRE(p.status);
  CHECK(p.status->status == "deleted");
  CHECK_FALSE(p.status->is_default);
  CHECK(cond(*p.status, "Ready").reason == "Deleting");
  CHECK(p.remove_finalizer);

  SECTION("without our finalizer there is nothing to do") {
    c.meta.finalizers = {"other/x"};
    auto q = plan_for(c);
    CHECK_FALSE(q.remove_finalizer);
    CHECK_FALSE(q.status.has_value());
  }
}

TEST_CASE("only changes that matter to peers re-queue them", "[cmk][related]") {
  auto obj = [](const char* name, bool def, const char* replaces, const char* rv) {
    nlohmann::json j = {{"metadata", {{"namespace", "n"}, {"name", name}, {"resourceVersion", rv}}},
                        {"spec", {{"provider", "aws"}, {"resource", "r"}, {"default", def}}}};
    if (*replaces) j["spec"]["replaces"] = replaces;
    return j;
  };
  runtime::Store store;
  store.add_index(kPeerIndex, peer_index_values);
  store.add_index(kDefaultClaimerIndex, default_claimer_index_values);
  store.upsert(obj("d1", true, "", "1"));
  store.upsert(obj("d2", true, "", "1"));
  store.upsert(obj("x", false, "", "1"));
  auto a1 = obj("a", false, "", "1");
  auto a2 = obj("a", false, "", "2");  // status-only change
  a2["status"] = {{"status", "current"}};
  CHECK(related_cmk_keys(&a1, &a2, store).empty());
  auto a3 = obj("a", true, "", "3");  // now claims default
  CHECK(related_cmk_keys(&a2, &a3, store) == std::vector<std::string>{"n/d1", "n/d2"});
  auto a4 = obj("a", false, "x", "4");
  auto keys = related_cmk_keys(&a3, &a4, store);
  CHECK(std::find(keys.begin(), keys.end(), "n/x") != keys.end());
  CHECK(related_cmk_keys(nullptr, &a1, store).empty());
  // The claimers come from their index: a non-boolean `default` claims nothing.
  CHECK(default_claimer_index_values(obj("d1", true, "", "1")) == std::vector<std::string>{"n"});
  CHECK(default_claimer_index_values(obj("x", false, "", "1")).empty());
  auto odd = obj("y", false, "", "1");
  odd["spec"]["default"] = "yes";
  CHECK(default_claimer_index_values(odd).empty());
}

TEST_CASE("peers are read from raw objects and only those that can matter are kept",
          "[cmk][peers]") {
  auto o = nlohmann::json::parse(R"({"metadata":{"name":"p","creationTimestamp":"T1",
      "deletionTimestamp":"T2"},"spec":{"provider":"gcp","default":true,"replaces":"q"}})");
  CmkPeer p = peer_from_object(o);
  CHECK(p.name == "p");
  CHECK(p.provider == "gcp");
  CHECK(p.claims_default);
  CHECK(p.replaces == "q");
  CHECK(p.deleting);
  CmkPeer plain{"x", "aws", "", false, "T1", false};
  CHECK_FALSE(peer_matters(plain, ""));
  CHECK(peer_matters(plain, "x"));  // the CMK being replaced
  CHECK(peer_matters(p, ""));
}

// --- what the KMS says ---

TEST_CASE("the KMS's state word decides current, old and deleted, and a change is an Event",
          "[cmk][kms]") {
  auto c = make("a", "T1");
  c.status = *plan_for(c).status;  // verified Enabled

  auto disabled = plan_for(c, {}, "T10", found("Disabled"));
  REQUIRE(disabled.status);
  CHECK(disabled.status->status == "old");
  CHECK(disabled.status->key_state == "Disabled");
  CHECK(cond(*disabled.status, "Ready").status == "False");
  CHECK(cond(*disabled.status, "Ready").reason == "KeyNotUsable");
  CHECK(cond(*disabled.status, "Ready").message.find("Disabled") != std::string::npos);
  bool changed = false;
  for (auto& e : disabled.events)
    if (e.reason == "KeyStateChanged") {
      changed = true;
      CHECK(e.type == "Warning");
      CHECK(e.note.find("Enabled -> Disabled") != std::string::npos);
    }
  CHECK(changed);

  auto pending = plan_for(c, {}, "T10", found("PendingDeletion"));
  CHECK(pending.status->status == "deleted");
  CHECK(cond(*pending.status, "Ready").reason == "KeyDeleted");

  SECTION("without a check in this pass the last word stands") {
    c.status = *disabled.status;
    auto quiet = plan_for(c, {}, "T20", std::nullopt);
    CHECK_FALSE(quiet.status.has_value());  // still old, nothing to write
  }
  SECTION("a word the operator does not know is not taken as usable") {
    auto odd = plan_for(c, {}, "T10", found("Frobnicating"));
    CHECK(cond(*odd.status, "Ready").reason == "UnknownKeyState");
    CHECK(cond(*odd.status, "Ready").status == "False");
  }
}

TEST_CASE("each cause of a failed check has its own reason, and only outages retry soon",
          "[cmk][kms]") {
  auto c = make("a", "T1");
  c.status = *plan_for(c).status;
  using P = kmsprovider::ProviderProblem;
  struct Case {
    KeyCheck check;
    const char* reason;
    const char* status;
    bool transient;
  };
  std::vector<Case> cases = {
      {failed(ErrorKind::NotFound, "KMS DescribeKey: NotFoundException: no key"), "KeyNotFound",
       "False", false},
      {failed(ErrorKind::Unauthenticated, "KMS DescribeKey: bad signature"), "InvalidCredentials",
       "False", false},
      {failed(ErrorKind::PermissionDenied, "KMS DescribeKey: AccessDeniedException"),
       "AccessDenied", "False", false},
      {failed(ErrorKind::Unavailable, "KMS DescribeKey: connection refused"), "KmsUnavailable",
       "Unknown", true},
      {failed(ErrorKind::Throttled, "KMS DescribeKey: ThrottlingException"), "KmsUnavailable",
       "Unknown", true},
      {failed(ErrorKind::NotFound, "KmsProvider team/aws does not exist", P::ProviderNotFound),
       "ProviderNotFound", "False", false},
      {failed(ErrorKind::NotFound, "Secret team/creds does not exist", P::SecretNotFound),
       "CredentialsSecretNotFound", "False", false},
      {failed(ErrorKind::InvalidArgument, "spec.region is empty", P::Misconfigured),
       "ProviderMisconfigured", "False", false},
      {failed(ErrorKind::Unavailable, "reading KmsProvider: timeout", P::Unreachable),
       "KmsUnavailable", "Unknown", true},
  };
  for (const auto& k : cases) {
    INFO(k.reason);
    auto p = plan_for(c, {}, "T10", k.check);
    REQUIRE(p.status);
    const auto& v = cond(*p.status, "KeyVerified");
    CHECK(v.reason == k.reason);
    CHECK(v.status == k.status);
    CHECK(v.message.find(k.check.error.message) == 0);
    CHECK(p.transient_failure == k.transient);
    CHECK(cond(*p.status, "Ready").reason == k.reason);
    bool warned = false;
    for (auto& e : p.events) warned |= e.reason == "KeyVerificationFailed" && e.type == "Warning";
    CHECK(warned);
    if (std::string(k.reason) == "KeyNotFound") {
      CHECK(p.status->status == "deleted");
      CHECK(v.message.find("check spec.resource") != std::string::npos);
    } else {
      CHECK(p.status->status == "current");  // the last known state stands
      CHECK(p.status->key_state == "Enabled");
    }
  }
}

TEST_CASE("a key that cannot encrypt is reported as the wrong type", "[cmk][kms]") {
  auto p = plan_for(make("a", "T1"), {}, "T9", found("Enabled", "SIGN_VERIFY"));
  const auto& v = cond(*p.status, "KeyVerified");
  CHECK(v.status == "False");
  CHECK(v.reason == "WrongKeyType");
  CHECK(v.message.find("SIGN_VERIFY") != std::string::npos);
  CHECK(cond(*p.status, "Ready").reason == "WrongKeyType");
}

TEST_CASE("a verification is due after the interval, after a failure, and after a spec change",
          "[cmk][kms]") {
  auto c = make("a", "2026-01-01T00:00:00Z");
  SystemTime t0;
  REQUIRE(parse_rfc3339("2026-01-01T00:00:00Z", t0));
  CHECK(verification_due(c, t0, std::chrono::seconds(600)));  // never verified
  c.status = *plan_for(c, {}, "2026-01-01T00:00:00Z").status;
  CHECK_FALSE(verification_due(c, t0 + std::chrono::seconds(599), std::chrono::seconds(600)));
  CHECK(verification_due(c, t0 + std::chrono::seconds(600), std::chrono::seconds(600)));
  c.meta.generation = 2;
  CHECK(verification_due(c, t0 + std::chrono::seconds(1), std::chrono::seconds(600)));
  c.meta.generation = 1;
  c.status = *plan_for(c, {}, "2026-01-01T00:00:00Z", failed(ErrorKind::NotFound, "no key")).status;
  CHECK(verification_due(c, t0 + std::chrono::seconds(1), std::chrono::seconds(600)));
}

TEST_CASE("the verify interval comes from the annotation, within bounds", "[cmk][kms]") {
  CHECK(parse_duration("90s") == std::chrono::seconds(90));
  CHECK(parse_duration("1h30m") == std::chrono::seconds(5400));
  CHECK_FALSE(parse_duration("10").has_value());
  CHECK_FALSE(parse_duration("5d").has_value());
  CHECK_FALSE(parse_duration("").has_value());
  runtime::ObjectMeta meta;
  CHECK(verify_interval(meta).every == std::chrono::seconds(600));
  meta.annotations["byok.dev/verify-interval"] = "2s";
  CHECK(verify_interval(meta, std::chrono::seconds(1)).every == std::chrono::seconds(2));
  CHECK(verify_interval(meta, std::chrono::seconds(1)).problem.empty());
  // Below the operator's floor (60s unless --min-verify-interval says otherwise): raised to it.
  CHECK(verify_interval(meta).every == std::chrono::seconds(60));
  CHECK(verify_interval(meta).problem.find("--min-verify-interval") != std::string::npos);
  meta.annotations["byok.dev/verify-interval"] = "5m";
  CHECK(verify_interval(meta).every == std::chrono::seconds(300));
  CHECK(verify_interval(meta).problem.empty());
  meta.annotations["byok.dev/verify-interval"] = "48h";
  CHECK(verify_interval(meta).every == std::chrono::seconds(600));
  CHECK(verify_interval(meta).problem.find("byok.dev/verify-interval") != std::string::npos);
}

TEST_CASE("deletionPolicy Delete keeps the finalizer until the KMS scheduled the deletion",
          "[cmk][delete]") {
  auto c = make("a", "T1");
  c.spec.deletion_policy = "Delete";
  c.spec.deletion_window_days = 7;
  c.status = *plan_for(c).status;
  c.meta.deleting = true;
  CHECK(deletion_due(c));

  CmkInputs in = inputs(c, {peer_of(c)}, "T20", "");
  in.deletion =
      DeletionOutcome{false, Error{ErrorKind::Unavailable, "KMS ScheduleKeyDeletion: timeout"}, ""};
  auto failing = plan_cmk(in);
  CHECK_FALSE(failing.remove_finalizer);
  CHECK(failing.transient_failure);
  CHECK(cond(*failing.status, "Ready").reason == "DeletionFailed");
  CHECK(cond(*failing.status, "Ready").message.find("deletionPolicy: Retain") != std::string::npos);

  in.deletion = DeletionOutcome{true, {}, "PendingDeletion"};
  auto done = plan_cmk(in);
  CHECK(done.remove_finalizer);
  bool scheduled = false;
  for (auto& e : done.events)
    if (e.reason == "KeyDeletionScheduled") {
      scheduled = true;
      CHECK(e.note.find("window 7 days") != std::string::npos);
    }
  CHECK(scheduled);

  SECTION("Retain never asks the KMS") {
    c.spec.deletion_policy = "Retain";
    CHECK_FALSE(deletion_due(c));
    auto p = plan_for(c, {}, "T20", std::nullopt);
    CHECK(p.remove_finalizer);
  }
}
