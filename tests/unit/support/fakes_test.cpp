// The fakes hold the guarantees their interfaces document, so a test passing on them means the
// code under test kept them.

#include <catch2/catch.hpp>

#include "controller/kube/resource.h"
#include "hsm/encoding.h"
#include "tests/unit/support/fake_hsm.h"
#include "kms/provider_traits.h"
#include "tests/unit/support/fake_kms.h"
#include "tests/unit/support/fake_kube_client.h"

using namespace byok;
using Json = nlohmann::json;

namespace {

kms::ImportTarget target() {
  kms::ImportTarget t;
  t.name = "payments";
  t.key_type = "aes256-gcm96";
  t.owner = "uid-1";
  t.wrapping_algorithm = "SHA256";
  return t;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE(
    "FakeKms: what the HSM wrapped arrives unwrapped, and a second import with one wrapping key "
    "is a breach of the interface",
    "[fakes]") {
  testing::FakeKms kms;
  testing::FakeHsm hsm;
  hsm.add_key("k", hsm::KeyType::Aes256Gcm96);
  auto w = kms.prepare_import(target(), "");
  REQUIRE(w);
  auto blob = hsm.wrap_key(hsm::KeyRef::label("k"), *kms::wrap_spec_for("transit", "SHA256"),
                           bytes(w->public_key_der));
  REQUIRE(blob);
  std::string wrapped(blob->begin(), blob->end());
  REQUIRE(kms.import_key(target(), *w, wrapped, kms::ImportKind::First));
  CHECK(kms.keys["payments"].material == hsm.keys.front().material);
  CHECK(kms.violations.empty());

  (void)kms.import_key(target(), *w, wrapped, kms::ImportKind::NewVersion);
  CHECK(kms.violations == std::vector<std::string>{"import_key sent twice with token-1"});
}

TEST_CASE("FakeKms: a key is found by name and owner only", "[fakes]") {
  testing::FakeKms kms;
  REQUIRE(kms.prepare_import(target(), ""));
  auto mine = kms.find_key(target());
  REQUIRE(mine);
  CHECK((*mine)->state == "PendingImport");
  auto other = target();
  other.owner = "uid-2";
  auto theirs = kms.find_key(other);
  REQUIRE_FALSE(theirs);
  CHECK(theirs.error().kind == ErrorKind::AlreadyExists);
}

TEST_CASE("FakeHsm: refuses what a token refuses", "[fakes]") {
  testing::FakeHsm hsm;
  hsm.add_key("k", hsm::KeyType::Aes256Gcm96).info.extractable = false;
  testing::FakeKms kms;
  auto der = kms.prepare_import(target(), "")->public_key_der;
  auto spec = *kms::wrap_spec_for("transit", "SHA256");
  CHECK(hsm.wrap_key(hsm::KeyRef::label("k"), spec, bytes(der)).error().kind ==
        ErrorKind::PermissionDenied);
  CHECK(hsm.wrap_key(hsm::KeyRef::label("none"), spec, bytes(der)).error().kind ==
        ErrorKind::NotFound);
  hsm.add_key("weak", hsm::KeyType::Aes256Gcm96);
  CHECK(hsm.wrap_key(hsm::KeyRef::label("weak"), spec, bytes("not a key")).error().kind ==
        ErrorKind::InvalidArgument);
  hsm.oaep_sha256_works = false;
  CHECK(hsm.wrap_key(hsm::KeyRef::label("weak"), spec, bytes(der)).error().kind ==
        ErrorKind::Unsupported);
  CHECK(hsm.capabilities()->oaep_sha256 == false);  // learned on the first SHA-256 wrap
}

TEST_CASE("FakeKubeClient: writes are guarded by resourceVersion and bump it", "[fakes]") {
  testing::FakeKubeClient api;
  const auto t = kube::resources::secrets();
  auto created =
      api.create(t, "ns", {{"metadata", {{"name", "s"}}}, {"data", {{"a", "1"}}}}, "", "");
  REQUIRE(created);
  const std::string rv = (*created)["metadata"]["resourceVersion"];
  CHECK(api.create(t, "ns", {{"metadata", {{"name", "s"}}}}, "", "").error().kind ==
        ErrorKind::Conflict);
  auto patched = api.patch(t, "ns", "s", kube::PatchType::Merge,
                           {{"metadata", {{"resourceVersion", rv}}}, {"data", {{"b", "2"}}}}, {});
  REQUIRE(patched);
  CHECK((*patched)["data"] == Json{{"a", "1"}, {"b", "2"}});
  CHECK((*patched)["metadata"]["resourceVersion"] != rv);
  auto stale = api.patch(t, "ns", "s", kube::PatchType::Merge,
                         {{"metadata", {{"resourceVersion", rv}}}}, {});
  CHECK(stale.error().kind == ErrorKind::Conflict);
  api.log.fail_next("get", Error{ErrorKind::Unavailable, "down"});
  CHECK(api.get(t, "ns", "s").error().kind == ErrorKind::Unavailable);
  CHECK(api.get(t, "ns", "s"));
  CHECK(api.log.count("get") == 2);
}
