// CustomerManagedKey against the real kube-apiserver, with the real operator binary running as a
// child process: apply, status reaches current, default moves, replaces makes a key old, delete
// runs the finalizer, and a crash + restart in between loses and duplicates nothing.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "controller/kube/resource.h"
#include "tests/harness/cluster.h"
#include "tests/harness/operator_process.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

using namespace byok;
using byok::kube::Json;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();

Json cmk_object(const std::string& name, bool is_default, const std::string& replaces = "") {
  Json j = {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"provider", "aws"},
        {"resource", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"default", is_default},
        {"providerRef", {{"name", "aws"}}}}}};
  if (!replaces.empty()) j["spec"]["replaces"] = replaces;
  return j;
}

struct Operator {
  std::string log_path;
  std::unique_ptr<testing::ChildProcess> process;

  Operator(const std::string& ns, const std::string& log) : log_path(log) { start(ns); }
  void start(const std::string& ns) { process = testing::start_operator(ns, log_path); }
};

Json status_of(kube::KubeClient& c, const std::string& ns, const std::string& name) {
  return testing::status_of(c, kCmk, ns, name);
}

std::string condition_reason(const Json& status, const std::string& type) {
  return testing::condition_field(status, type);
}

using testing::count_events;

}  // namespace

TEST_CASE("CustomerManagedKey lifecycle against a real apiserver", "[integration][cmk]") {
  auto client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns = testing::create_namespace(c, "cmk-life");
  std::string log = (std::filesystem::temp_directory_path() / (ns + "-operator.log")).string();
  Operator op(ns, log);
  INFO("operator log: " << log);

  REQUIRE(c.create(kCmk, ns, cmk_object("alpha", true)).ok());
  REQUIRE(testing::wait_until(
      [&] { return status_of(c, ns, "alpha").value("status", "") == "current"; }));
  Json alpha = status_of(c, ns, "alpha");
  std::string alpha_id = alpha.value("id", "");
  CHECK(alpha_id.size() == 36);
  CHECK(alpha.value("default", false));
  CHECK_FALSE(alpha.value("createdAt", "").empty());
  CHECK_FALSE(alpha.value("updatedAt", "").empty());
  // No KmsProvider "aws" in this namespace: registered, but not verified and not Ready.
  CHECK(condition_reason(alpha, "Ready") == "ProviderNotFound");
  CHECK(condition_reason(alpha, "KeyVerified") == "ProviderNotFound");
  auto fin = c.get(kCmk, ns, "alpha");
  REQUIRE(fin.ok());
  CHECK((*fin)["metadata"]["finalizers"] == Json::array({"byok.dev/customermanagedkey"}));

  SECTION("a later default claimer wins; releasing it hands the default back") {
    REQUIRE(c.create(kCmk, ns, cmk_object("beta", true)).ok());
    REQUIRE(testing::wait_until([&] {
      return status_of(c, ns, "beta").value("default", false) &&
             !status_of(c, ns, "alpha").value("default", true);
    }));
    CHECK(condition_reason(status_of(c, ns, "alpha"), "Default") == "DefaultClaimedByNewer");

    REQUIRE(
        c.patch(kCmk, ns, "beta", kube::PatchType::Merge, {{"spec", {{"default", false}}}}).ok());
    REQUIRE(testing::wait_until([&] {
      return status_of(c, ns, "alpha").value("default", false) &&
             !status_of(c, ns, "beta").value("default", true);
    }));
    CHECK(status_of(c, ns, "alpha").value("id", "") == alpha_id);
  }

  SECTION("replaces makes the older key old until the replacer goes away") {
    REQUIRE(c.create(kCmk, ns, cmk_object("gamma", false, "alpha")).ok());
    REQUIRE(testing::wait_until(
        [&] { return status_of(c, ns, "alpha").value("status", "") == "old"; }));
    // alpha turns old as soon as the operator sees gamma; gamma's own status may come after.
    CHECK(testing::wait_until([&] {
      Json gamma = status_of(c, ns, "gamma");
      return gamma.value("status", "") == "current" &&
             condition_reason(gamma, "Replacing") == "Superseding";
    }));

    REQUIRE(c.remove(kCmk, ns, "gamma").ok());
    REQUIRE(testing::wait_until([&] { return !c.get(kCmk, ns, "gamma").ok(); }));
    REQUIRE(testing::wait_until(
        [&] { return status_of(c, ns, "alpha").value("status", "") == "current"; }));
  }

  SECTION("a crash and a restart lose nothing and duplicate nothing") {
    // Events are written after the status; wait for it so the crash tests the restart, not a
    // race with the first instance's last request.
    REQUIRE(testing::wait_until([&] { return count_events(c, ns, "alpha", "Registered") == 1; }));
    op.process->kill_hard();
    // Changes while the controller is down are picked up by the restart's list.
    REQUIRE(c.create(kCmk, ns, cmk_object("delta", false)).ok());
    REQUIRE(
        c.patch(kCmk, ns, "alpha", kube::PatchType::Merge, {{"spec", {{"default", false}}}}).ok());
    op.start(ns);
    REQUIRE(testing::wait_until(
        [&] { return status_of(c, ns, "delta").value("status", "") == "current"; }));
    REQUIRE(testing::wait_until([&] { return !status_of(c, ns, "alpha").value("default", true); }));
    CHECK(status_of(c, ns, "alpha").value("id", "") == alpha_id);
    // Restart again with nothing to do: ids stay, no second registration is announced.
    CHECK(op.process->terminate() == 0);
    op.start(ns);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(status_of(c, ns, "alpha").value("id", "") == alpha_id);
    CHECK(count_events(c, ns, "alpha", "Registered") == 1);
    CHECK(count_events(c, ns, "delta", "Registered") == 1);
  }

  SECTION("delete runs the finalizer and the object goes away") {
    REQUIRE(c.remove(kCmk, ns, "alpha").ok());
    REQUIRE(testing::wait_until([&] { return !c.get(kCmk, ns, "alpha").ok(); }));
    CHECK(c.get(kCmk, ns, "alpha").error().kind == ErrorKind::NotFound);
    CHECK(count_events(c, ns, "alpha", "Unregistered") == 1);
  }

  CHECK(op.process->terminate() == 0);  // graceful shutdown on SIGTERM
}

TEST_CASE("a finalizer of someone else's is kept through our delete", "[integration][cmk]") {
  auto client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns = testing::create_namespace(c, "cmk-fin");
  std::string log = (std::filesystem::temp_directory_path() / (ns + "-operator.log")).string();
  Operator op(ns, log);
  Json obj = cmk_object("shared", false);
  obj["metadata"]["finalizers"] = Json::array({"example.com/keep"});
  REQUIRE(c.create(kCmk, ns, obj).ok());
  REQUIRE(testing::wait_until(
      [&] { return status_of(c, ns, "shared").value("status", "") == "current"; }));
  REQUIRE(c.remove(kCmk, ns, "shared").ok());
  REQUIRE(testing::wait_until([&] {
    auto o = c.get(kCmk, ns, "shared");
    return o && (*o)["metadata"]["finalizers"] == Json::array({"example.com/keep"});
  }));
  CHECK(status_of(c, ns, "shared").value("status", "") == "deleted");
  REQUIRE(
      c.patch(kCmk, ns, "shared", kube::PatchType::Merge, {{"metadata", {{"finalizers", nullptr}}}})
          .ok());
  REQUIRE(testing::wait_until([&] { return !c.get(kCmk, ns, "shared").ok(); }));
}
