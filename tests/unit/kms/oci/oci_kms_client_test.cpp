// OciKmsClient against a scripted transport: the requests it builds (paths, bodies, signatures),
// how it reads OCI's answers and errors, when it retries, and how it is configured.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "kms/oci/oci_kms_client.h"
#include "kms/oci/oci_traits.h"
#include "tests/unit/kms/oci/oci_test_keys.h"
#include "tests/unit/kms/scripted_transport.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::oci;
using namespace byok::kms::oci::testing;
using Json = nlohmann::json;

namespace {

using FixedClock = kms::testing::SettableClock;
using FakeTransport = kms::testing::ScriptedTransport;
using kms::testing::answer;

const char* kEndpoint = "https://bbp123-management.kms.us-ashburn-1.oraclecloud.com";
const char* kCompartment = "ocid1.compartment.oc1..aaaaaaaacompartment";
const char* kKeyId = "ocid1.key.oc1.iad.bbp123.abuwcljrkey1";
const char* kVersionId = "ocid1.keyversion.oc1.iad.bbp123.abuwcljrversion1";

std::string key_json(const std::string& id, const std::string& name, const std::string& state,
                     const std::string& owner = "",
                     const std::string& created = "2026-11-20T10:00:00.123Z") {
  Json k = {{"compartmentId", kCompartment},
            {"currentKeyVersion", std::string(kVersionId)},
            {"definedTags", Json::object()},
            {"displayName", name},
            {"freeformTags", Json::object()},
            {"id", id},
            {"keyShape", {{"algorithm", "AES"}, {"length", 32}}},
            {"protectionMode", "HSM"},
            {"lifecycleState", state},
            {"timeCreated", created},
            {"timeOfDeletion", nullptr},
            {"vaultId", "ocid1.vault.oc1.iad.bbp123.vault"}};
  if (!owner.empty()) k["freeformTags"]["byok.dev/owner"] = owner;
  return k.dump();
}

std::string version_json(const std::string& origin) {
  return Json{{"compartmentId", kCompartment},
              {"id", kVersionId},
              {"keyId", kKeyId},
              {"lifecycleState", "ENABLED"},
              {"origin", origin},
              {"timeCreated", "2026-11-20T10:00:00.123Z"},
              {"vaultId", "v"}}
      .dump();
}

struct Fixture {
  FixedClock clock;
  FakeTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<OciKmsClient> client;
  Pkey key = read_private_pem(kPublishedKeyPem);

  Fixture() {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    OciKmsConfig cfg;
    cfg.management_endpoint = std::string(kEndpoint) + "/";
    cfg.compartment_id = kCompartment;
    cfg.tenancy = kPublishedTenancy;
    cfg.user = kPublishedUser;
    auto signer = RequestSigner::create(
        std::string(kPublishedTenancy) + "/" + kPublishedUser + "/" + kPublishedFingerprint,
        kPublishedKeyPem);
    REQUIRE(signer.ok());
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<OciKmsClient>(cfg, *signer, transport, clock, env);
  }

  // Checks the request is signed as OCI wants, verifying the signature over the signing string
  // rebuilt from what was sent.
  void check_signed(const HttpRequest& req) const {
    std::string auth = find_header(req.headers, "authorization");
    std::smatch m;
    REQUIRE(std::regex_match(
        auth, m,
        std::regex("Signature version=\"1\",headers=\"([^\"]+)\",keyId=\"([^\"]+)\","
                   "algorithm=\"rsa-sha256\",signature=\"([^\"]+)\"")));
    std::string names = m[1].str();
    CHECK(names == signed_header_names(req.method));
    CHECK(m[2].str() ==
          std::string(kPublishedTenancy) + "/" + kPublishedUser + "/" + kPublishedFingerprint);
    CHECK(find_header(req.headers, "date") == "Mon, 23 Nov 2026 15:38:00 GMT");
    CHECK(find_header(req.headers, "host") == "bbp123-management.kms.us-ashburn-1.oraclecloud.com");
    auto url = parse_url(req.url);
    REQUIRE(url.ok());
    auto text = signing_string(req.method, url->path + (url->query.empty() ? "" : "?" + url->query),
                               req.headers, names);
    REQUIRE(text.ok());
    auto sig = base64_decode(m[3].str());
    REQUIRE(sig.ok());
    CHECK(verify_rsa_sha256(key.get(), *text, *sig));
  }
};

ImportTarget target(const std::string& type = "aes256-gcm96",
                    const std::string& alg = "RSA_OAEP_AES_SHA256") {
  ImportTarget t;
  t.name = "payments-key";
  t.key_type = type;
  t.owner = "0b6a3c52-uid";
  t.wrapping_algorithm = alg;
  return t;
}

}  // namespace

TEST_CASE("oci: describe_key GETs the key and its current version, signed, and reads them",
          "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    if (r.url.find("/keyVersions/") != std::string::npos)
      return answer(200, version_json("EXTERNAL"));
    Json k = Json::parse(key_json(kKeyId, "payments", "PENDING_DELETION"));
    k["timeOfDeletion"] = "2026-12-01T00:00:00.000Z";
    return answer(200, k.dump());
  };
  auto key = f.client->describe_key(kKeyId);
  REQUIRE(key.ok());
  REQUIRE(f.transport.requests.size() == 2);
  const auto& get = f.transport.requests[0];
  CHECK(get.method == "GET");
  CHECK(get.url == std::string(kEndpoint) + "/20180608/keys/" + kKeyId);
  CHECK(get.body.empty());
  CHECK(find_header(get.headers, "accept") == "application/json");
  CHECK(find_header(get.headers, "opc-request-id").size() == 32);
  f.check_signed(get);
  CHECK(f.transport.requests[1].url ==
        std::string(kEndpoint) + "/20180608/keys/" + kKeyId + "/keyVersions/" + kVersionId);
  f.check_signed(f.transport.requests[1]);

  CHECK(key->key_id == kKeyId);
  CHECK(key->resource == kKeyId);
  CHECK(key->name == "payments");
  CHECK(key->version == kVersionId);
  CHECK(key->state == "PENDING_DELETION");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Deleted);
  CHECK(key->key_spec == "AES");
  CHECK(key->origin == "EXTERNAL");
  CHECK(key->imported);
  CHECK_FALSE(key->enabled);
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2026-11-20T10:00:00Z");
  REQUIRE(key->deletion_date.has_value());
  CHECK(format_rfc3339(*key->deletion_date) == "2026-12-01T00:00:00Z");
}

TEST_CASE("oci: a key id that is not an OCID never reaches the network", "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(200, "{}"); };
  for (const char* bad : {"", "ocid1.key.oc1../../wrappingKeys", "ocid1.key?x=1", "a b"}) {
    INFO(bad);
    auto key = f.client->describe_key(bad);
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().kind == ErrorKind::InvalidArgument);
    CHECK(key.error().message.find("OCI GetKey: ") == 0);
    CHECK_FALSE(f.client->cancel_key_deletion(bad).ok());
  }
  CHECK(f.transport.requests.empty());
}

TEST_CASE("oci: error codes map to error kinds", "[kms][oci]") {
  const std::tuple<int, const char*, ErrorKind> table[] = {
      {401, "NotAuthenticated", ErrorKind::Unauthenticated},
      {404, "NotAuthorizedOrNotFound", ErrorKind::NotFound},
      {403, "NotAuthorized", ErrorKind::PermissionDenied},
      {403, "NotAllowed", ErrorKind::PermissionDenied},
      {403, "SignUpRequired", ErrorKind::PermissionDenied},
      {400, "InvalidParameter", ErrorKind::InvalidArgument},
      {400, "MissingParameter", ErrorKind::InvalidArgument},
      {400, "CannotParseRequest", ErrorKind::InvalidArgument},
      {400, "RelatedResourceNotAuthorizedOrNotFound", ErrorKind::InvalidArgument},
      {400, "LimitExceeded", ErrorKind::FailedPrecondition},
      {400, "QuotaExceeded", ErrorKind::FailedPrecondition},
      {409, "IncorrectState", ErrorKind::FailedPrecondition},
      {409, "NotAuthorizedOrResourceAlreadyExists", ErrorKind::Conflict},
      {409, "InvalidatedRetryToken", ErrorKind::Conflict},
      {412, "NoEtagMatch", ErrorKind::Conflict},
      {429, "TooManyRequests", ErrorKind::Throttled},
      {500, "InternalServerError", ErrorKind::Unavailable},
      {501, "MethodNotImplemented", ErrorKind::Unsupported},
      {503, "ServiceUnavailable", ErrorKind::Unavailable},
      {502, "", ErrorKind::Unavailable},
      {404, "SomethingNew", ErrorKind::NotFound},
      {418, "", ErrorKind::Internal},
  };
  for (const auto& [status, code, kind] : table) {
    INFO(status << " " << code);
    CHECK(oci_error_kind(code, status) == kind);
  }
}

TEST_CASE("oci: an error names the call, OCI's code and message, the status and opc-request-id",
          "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(
        404,
        R"({"code":"NotAuthorizedOrNotFound","message":"Authorization failed or requested resource not found."})",
        {{"opc-request-id", "CLIENTID/SERVERID"}});
  };
  auto key = f.client->describe_key(kKeyId);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message ==
        "OCI GetKey: NotAuthorizedOrNotFound: Authorization failed or requested resource not "
        "found. (HTTP 404, opc-request-id CLIENTID/SERVERID)");
  CHECK(f.transport.requests.size() == 1);  // NotFound is not retried

  // No JSON and no opc-request-id in the answer: a one-line excerpt and our own request id.
  f.transport.requests.clear();
  f.transport.handler = [](const HttpRequest&) {
    return answer(403, "<html>\n  <body>Forbidden   by proxy</body>\n</html>");
  };
  auto again = f.client->describe_key(kKeyId);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::PermissionDenied);
  std::string sent_id = find_header(f.transport.requests[0].headers, "opc-request-id");
  CHECK(again.error().message ==
        "OCI GetKey: <html> <body>Forbidden by proxy</body> </html> (HTTP 403, "
        "opc-request-id " +
            sent_id + ")");
}

TEST_CASE(
    "oci: reads are retried on 5xx and throttling with jittered backoff, writes are sent once",
    "[kms][oci]") {
  Fixture f;
  int calls = 0;
  f.transport.handler = [&](const HttpRequest& r) {
    if (r.url.find("/keyVersions/") != std::string::npos)
      return answer(200, version_json("INTERNAL"));
    if (++calls < 3) return answer(503, R"({"code":"ServiceUnavailable","message":"try later"})");
    return answer(200, key_json(kKeyId, "k", "ENABLED"));
  };
  auto key = f.client->describe_key(kKeyId);
  REQUIRE(key.ok());
  CHECK(key->origin == "INTERNAL");
  CHECK_FALSE(key->imported);
  CHECK(*key->status == CmkStatus::Current);
  REQUIRE(f.transport.requests.size() == 4);
  // Each attempt is signed afresh, with a request id of its own.
  CHECK(find_header(f.transport.requests[0].headers, "opc-request-id") !=
        find_header(f.transport.requests[1].headers, "opc-request-id"));
  f.check_signed(f.transport.requests[2]);
  REQUIRE(f.sleeps.size() == 2);
  CHECK(f.sleeps[0] == std::chrono::milliseconds(75));   // 100 ms step, equal jitter at 0.5
  CHECK(f.sleeps[1] == std::chrono::milliseconds(150));  // 200 ms step

  f.transport.requests.clear();
  f.sleeps.clear();
  f.transport.handler = [](const HttpRequest&) {
    return answer(429, R"({"code":"TooManyRequests","message":"slow down"})");
  };
  auto throttled = f.client->describe_key(kKeyId);
  REQUIRE_FALSE(throttled.ok());
  CHECK(throttled.error().kind == ErrorKind::Throttled);
  CHECK(throttled.error().message.find("(gave up after 3 attempts)") != std::string::npos);
  CHECK(f.transport.requests.size() == 3);

  f.transport.requests.clear();
  f.transport.handler = [](const HttpRequest&) {
    return answer(500, R"({"code":"InternalServerError","message":"oops"})");
  };
  auto scheduled = f.client->schedule_key_deletion(kKeyId, 7);
  REQUIRE_FALSE(scheduled.ok());
  CHECK(scheduled.error().kind == ErrorKind::Unavailable);
  CHECK(f.transport.requests.size() == 1);
  CHECK(scheduled.error().message.find("gave up") == std::string::npos);
}

TEST_CASE("oci: no answer at all is Unavailable and names our opc-request-id", "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) -> Result<HttpResponse> {
    return make_error(ErrorKind::Unavailable, "GET " + r.url + ": Connection refused");
  };
  auto key = f.client->describe_key(kKeyId);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("OCI GetKey: GET " + std::string(kEndpoint) + "/20180608/keys/" +
                                 kKeyId + ": Connection refused (opc-request-id ") == 0);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(f.transport.requests.size() == 3);
}

TEST_CASE("oci: ScheduleKeyDeletion sends timeOfDeletion inside OCI's 7..30-day window",
          "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    Json k = Json::parse(key_json(kKeyId, "k", "SCHEDULING_DELETION"));
    k["timeOfDeletion"] = Json::parse(r.body)["timeOfDeletion"];
    return answer(200, k.dump());
  };
  const std::pair<int, const char*> cases[] = {
      {7, "2026-11-30T15:48:00Z"},  // ten minutes past the 7-day minimum
      {10, "2026-12-03T15:38:00Z"},
      {30, "2026-12-23T15:28:00Z"},  // ten minutes short of the 30-day maximum
  };
  for (auto [days, expected] : cases) {
    INFO(days);
    f.transport.requests.clear();
    auto d = f.client->schedule_key_deletion(kKeyId, days);
    REQUIRE(d.ok());
    REQUIRE(f.transport.requests.size() == 1);
    const auto& req = f.transport.requests[0];
    CHECK(req.method == "POST");
    CHECK(req.url ==
          std::string(kEndpoint) + "/20180608/keys/" + kKeyId + "/actions/scheduleDeletion");
    CHECK(Json::parse(req.body) == Json{{"timeOfDeletion", expected}});
    CHECK(find_header(req.headers, "content-type") == "application/json");
    f.check_signed(req);
    CHECK(d->key_id == kKeyId);
    CHECK(d->state == "SCHEDULING_DELETION");
    REQUIRE(d->deletion_date.has_value());
    CHECK(format_rfc3339(*d->deletion_date) == expected);
  }
  f.transport.requests.clear();
  for (int bad : {6, 31, 0}) {
    auto d = f.client->schedule_key_deletion(kKeyId, bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().kind == ErrorKind::InvalidArgument);
  }
  CHECK(f.transport.requests.empty());
}

TEST_CASE("oci: CancelKeyDeletion POSTs an empty, signed body", "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, key_json(kKeyId, "k", "CANCELLING_DELETION"));
  };
  REQUIRE(f.client->cancel_key_deletion(kKeyId).ok());
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == std::string(kEndpoint) + "/20180608/keys/" + kKeyId + "/actions/cancelDeletion");
  CHECK(req.body.empty());
  CHECK(find_header(req.headers, "content-length") == "0");
  CHECK(find_header(req.headers, "x-content-sha256") ==
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  f.check_signed(req);

  f.transport.handler = [](const HttpRequest&) {
    return answer(409, R"({"code":"IncorrectState","message":"no deletion to cancel"})");
  };
  auto refused = f.client->cancel_key_deletion(kKeyId);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::FailedPrecondition);
  CHECK(refused.error().message.find(
            "OCI CancelKeyDeletion: IncorrectState: no deletion to cancel (HTTP 409") == 0);
}

TEST_CASE("oci: who_am_i names the user and tenancy without a call", "[kms][oci]") {
  Fixture f;
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == kPublishedUser);
  CHECK(who->account == kPublishedTenancy);
  CHECK(who->id.empty());
  CHECK(f.transport.requests.empty());
}

TEST_CASE("oci: wrapping algorithms per key type, and types OCI cannot import are Unsupported",
          "[kms][oci]") {
  Fixture f;
  using V = std::vector<std::string>;
  CHECK(*f.client->wrapping_algorithms("aes256-gcm96") ==
        V{"RSA_OAEP_AES_SHA256", "RSA_OAEP_SHA256"});
  CHECK(*f.client->wrapping_algorithms("aes128-gcm96") ==
        V{"RSA_OAEP_AES_SHA256", "RSA_OAEP_SHA256"});
  for (const char* rsa : {"rsa-2048", "rsa-3072", "rsa-4096"})
    CHECK(*f.client->wrapping_algorithms(rsa) == V{"RSA_OAEP_AES_SHA256"});
  CHECK(oci_key_shape("aes128-gcm96")->length == 16);
  CHECK(oci_key_shape("rsa-3072")->algorithm == "RSA");
  CHECK(oci_key_shape("rsa-3072")->length == 384);
  CHECK(oci_key_shape("rsa-4096")->length == 512);
  for (const char* no :
       {"chacha20-poly1305", "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"}) {
    INFO(no);
    auto algs = f.client->wrapping_algorithms(no);
    REQUIRE_FALSE(algs.ok());
    CHECK(algs.error().kind == ErrorKind::Unsupported);
    CHECK(algs.error().message.find(std::string("OCI Vault does not import ") + no) == 0);
  }
  auto unknown = f.client->wrapping_algorithms("hmac-sha256");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
}

TEST_CASE(
    "oci: find_key lists every page, skips deleted keys and other owners, and GETs candidates",
    "[kms][oci]") {
  Fixture f;
  const std::string mine = "ocid1.key.oc1.iad.bbp123.mine";
  const std::string other_owner = "ocid1.key.oc1.iad.bbp123.theirs";
  const std::string deleted = "ocid1.key.oc1.iad.bbp123.deleted";
  const std::string other_name = "ocid1.key.oc1.iad.bbp123.othername";
  f.transport.handler = [&](const HttpRequest& r) {
    auto url = parse_url(r.url);
    if (url->path == "/20180608/keys" && url->query.find("page=") == std::string::npos) {
      Json page1 = Json::array({Json::parse(key_json(other_name, "unrelated", "ENABLED")),
                                Json::parse(key_json(other_owner, "payments-key", "ENABLED"))});
      return answer(200, page1.dump(), {{"opc-next-page", "AAA+/=="}});
    }
    if (url->path == "/20180608/keys") {
      Json page2 = Json::array({Json::parse(key_json(deleted, "payments-key", "DELETED")),
                                Json::parse(key_json(mine, "payments-key", "ENABLED"))});
      return answer(200, page2.dump());
    }
    if (url->path == "/20180608/keys/" + other_owner)
      return answer(200, key_json(other_owner, "payments-key", "ENABLED", "someone-else"));
    if (url->path == "/20180608/keys/" + mine)
      return answer(200, key_json(mine, "payments-key", "ENABLED", "0b6a3c52-uid"));
    if (url->path.find("/keyVersions/") != std::string::npos)
      return answer(200, version_json("EXTERNAL"));
    return answer(404, R"({"code":"NotAuthorizedOrNotFound","message":"no"})");
  };
  auto found = f.client->find_key(target());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == mine);
  CHECK((*found)->name == "payments-key");
  CHECK((*found)->imported);

  std::vector<std::string> urls;
  for (const auto& r : f.transport.requests) {
    urls.push_back(r.url);
    CHECK(r.method == "GET");
    f.check_signed(r);
  }
  const std::string list =
      std::string(kEndpoint) + "/20180608/keys?compartmentId=" + kCompartment + "&limit=100";
  CHECK(urls == std::vector<std::string>{list, list + "&page=AAA%2B%2F%3D%3D",
                                         std::string(kEndpoint) + "/20180608/keys/" + other_owner,
                                         std::string(kEndpoint) + "/20180608/keys/" + mine,
                                         std::string(kEndpoint) + "/20180608/keys/" + mine +
                                             "/keyVersions/" + kVersionId});

  auto stranger = target();
  stranger.owner = "nobody";
  f.transport.requests.clear();
  auto none = f.client->find_key(stranger);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  stranger.owner = "";
  auto ownerless = f.client->find_key(stranger);
  REQUIRE_FALSE(ownerless.ok());
  CHECK(ownerless.error().kind == ErrorKind::InvalidArgument);
}

TEST_CASE(
    "oci: prepare_import fetches the vault's wrapping key as DER, and a wrong algorithm is refused "
    "first",
    "[kms][oci]") {
  Fixture f;
  auto wrapping = generate("RSA", "2048");
  std::string pem = to_pem(wrapping.get(), false);
  f.transport.handler = [&](const HttpRequest&) {
    return answer(200, Json{{"compartmentId", kCompartment},
                            {"id", "ocid1.key.oc1.iad.bbp123.wrap"},
                            {"lifecycleState", "ENABLED"},
                            {"publicKey", pem},
                            {"timeCreated", "2026-01-01T00:00:00.000Z"},
                            {"vaultId", "v"}}
                           .dump());
  };
  auto w = f.client->prepare_import(target(), "");
  REQUIRE(w.ok());
  REQUIRE(f.transport.requests.size() == 1);
  CHECK(f.transport.requests[0].url == std::string(kEndpoint) + "/20180608/wrappingKeys");
  f.check_signed(f.transport.requests[0]);
  CHECK(w->key_id.empty());
  CHECK(w->public_key_der == spki_der(wrapping.get()));
  CHECK(w->algorithm == "RSA_OAEP_AES_SHA256");
  CHECK(w->import_token == "ocid1.key.oc1.iad.bbp123.wrap");

  auto rotation = f.client->prepare_import(target(), kKeyId);
  REQUIRE(rotation.ok());
  CHECK(rotation->key_id == kKeyId);

  f.transport.requests.clear();
  auto direct_rsa = f.client->prepare_import(target("rsa-2048", "RSA_OAEP_SHA256"), "");
  REQUIRE_FALSE(direct_rsa.ok());
  CHECK(direct_rsa.error().kind == ErrorKind::InvalidArgument);
  auto ecdsa = f.client->prepare_import(target("ecdsa-p256"), "");
  REQUIRE_FALSE(ecdsa.ok());
  CHECK(ecdsa.error().kind == ErrorKind::Unsupported);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("oci: ImportKey sends the shape, the base64 wrap, HSM protection and the owner tag",
          "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    Json k = Json::parse(key_json(kKeyId, "payments-key", "ENABLED", "0b6a3c52-uid"));
    return answer(200, k.dump());
  };
  std::string wrapped(512 + 40, '\x7f');
  wrapped[0] = '\0';
  WrappingKey w;
  w.algorithm = "RSA_OAEP_AES_SHA256";
  auto r = f.client->import_key(target("rsa-3072"), w, wrapped, ImportKind::First);
  REQUIRE(r.ok());
  CHECK(r->key_id == kKeyId);
  CHECK(r->resource == kKeyId);
  CHECK(r->version == kVersionId);
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == std::string(kEndpoint) + "/20180608/keys/import");
  f.check_signed(req);
  CHECK(Json::parse(req.body) == Json{{"compartmentId", kCompartment},
                                      {"displayName", "payments-key"},
                                      {"keyShape", {{"algorithm", "RSA"}, {"length", 384}}},
                                      {"protectionMode", "HSM"},
                                      {"wrappedImportKey",
                                       {{"keyMaterial", base64_encode(wrapped)},
                                        {"wrappingAlgorithm", "RSA_OAEP_AES_SHA256"}}},
                                      {"freeformTags", {{"byok.dev/owner", "0b6a3c52-uid"}}}});

  // A refusal is not retried, and names the call.
  f.transport.requests.clear();
  f.transport.handler = [](const HttpRequest&) {
    return answer(503, R"({"code":"ServiceUnavailable","message":"busy"})");
  };
  auto busy = f.client->import_key(target(), w, wrapped, ImportKind::First);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().kind == ErrorKind::Unavailable);
  CHECK(busy.error().message.find("OCI ImportKey: ServiceUnavailable: busy (HTTP 503") == 0);
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("oci: ImportKeyVersion adds material to the existing key", "[kms][oci]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    Json v = Json::parse(version_json("EXTERNAL"));
    v["id"] = "ocid1.keyversion.oc1.iad.bbp123.v2";
    return answer(200, v.dump());
  };
  WrappingKey w;
  w.key_id = kKeyId;
  w.algorithm = "RSA_OAEP_SHA256";
  std::string wrapped(512, 'x');
  auto r = f.client->import_key(target("aes256-gcm96", "RSA_OAEP_SHA256"), w, wrapped,
                                ImportKind::NewVersion);
  REQUIRE(r.ok());
  CHECK(r->key_id == kKeyId);
  CHECK(r->version == "ocid1.keyversion.oc1.iad.bbp123.v2");
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.url == std::string(kEndpoint) + "/20180608/keys/" + kKeyId + "/keyVersions/import");
  f.check_signed(req);
  CHECK(Json::parse(req.body) ==
        Json{{"wrappedImportKey",
              {{"keyMaterial", base64_encode(wrapped)}, {"wrappingAlgorithm", "RSA_OAEP_SHA256"}}},
             {"freeformTags", {{"byok.dev/owner", "0b6a3c52-uid"}}}});

  WrappingKey no_key;
  no_key.algorithm = "RSA_OAEP_SHA256";
  auto orphan = f.client->import_key(target("aes256-gcm96", "RSA_OAEP_SHA256"), no_key, wrapped,
                                     ImportKind::NewVersion);
  REQUIRE_FALSE(orphan.ok());
  CHECK(orphan.error().kind == ErrorKind::InvalidArgument);
  auto mismatch = f.client->import_key(target("rsa-2048"), w, wrapped, ImportKind::NewVersion);
  REQUIRE_FALSE(mismatch.ok());  // RSA keys cannot travel under direct RSA-OAEP
  CHECK(mismatch.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("oci: every lifecycleState maps to a CMK status word", "[kms][oci]") {
  const std::pair<const char*, CmkStatus> table[] = {
      {"ENABLED", CmkStatus::Current},
      {"UPDATING", CmkStatus::Current},
      {"BACKUP_IN_PROGRESS", CmkStatus::Current},
      {"DISABLED", CmkStatus::Old},
      {"DISABLING", CmkStatus::Old},
      {"ENABLING", CmkStatus::Old},
      {"CREATING", CmkStatus::Old},
      {"RESTORING", CmkStatus::Old},
      {"CANCELLING_DELETION", CmkStatus::Old},
      {"SCHEDULING_DELETION", CmkStatus::Deleted},
      {"PENDING_DELETION", CmkStatus::Deleted},
      {"DELETING", CmkStatus::Deleted},
      {"DELETED", CmkStatus::Deleted},
  };
  for (auto [state, status] : table) {
    INFO(state);
    auto got = oci_cmk_status(state);
    REQUIRE(got.has_value());
    CHECK(*got == status);
  }
  CHECK_FALSE(oci_cmk_status("").has_value());
  CHECK_FALSE(oci_cmk_status("enabled").has_value());
  CHECK_FALSE(oci_cmk_status("UNKNOWN_ENUM_VALUE").has_value());
}

// --- configuration ------------------------------------------------------------------------------

namespace {

ProviderConfig good_config() {
  ProviderConfig c;
  c.type = "oci";
  c.region = "us-ashburn-1";
  c.settings = {{"compartmentId", kCompartment},
                {"vaultId", "ocid1.vault.oc1.iad.bbp123.vault"},
                {"managementEndpoint", kEndpoint}};
  c.credentials = {{"tenancy", kPublishedTenancy},
                   {"user", kPublishedUser},
                   {"fingerprint", kPublishedFingerprint},
                   {"privateKey", kPublishedKeyPem}};
  return c;
}

}  // namespace

TEST_CASE("oci: from_config builds a client from a KmsProvider and its Secret", "[kms][oci]") {
  FixedClock clock;
  FakeTransport transport;
  auto client = OciKmsClient::from_config(good_config(), transport, clock);
  REQUIRE(client.ok());
  CHECK((*client)->management_endpoint() == kEndpoint);
  CHECK(std::string((*client)->provider()) == "oci");
  CHECK((*client)->who_am_i()->principal == kPublishedUser);

  auto fallback = good_config();
  fallback.settings.erase("managementEndpoint");
  fallback.endpoint = "https://127.0.0.1:8443";
  auto c2 = OciKmsClient::from_config(fallback, transport, clock);
  REQUIRE(c2.ok());
  CHECK((*c2)->management_endpoint() == "https://127.0.0.1:8443");

  auto encrypted = good_config();
  auto key = generate("RSA", "2048");
  encrypted.credentials["privateKey"] = to_pem(key.get(), true, "s3cret");
  encrypted.credentials["passphrase"] = "s3cret";
  CHECK(OciKmsClient::from_config(encrypted, transport, clock).ok());
  CHECK(transport.requests.empty());
}

TEST_CASE("oci: from_config names the missing or unreadable field", "[kms][oci]") {
  FixedClock clock;
  FakeTransport transport;
  for (const char* key : {"tenancy", "user", "fingerprint", "privateKey"}) {
    INFO(key);
    auto c = good_config();
    c.credentials.erase(key);
    auto client = OciKmsClient::from_config(c, transport, clock);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().kind == ErrorKind::InvalidArgument);
    CHECK(client.error().message == std::string("credentials Secret key ") + key + " is missing");
  }

  auto no_endpoint = good_config();
  no_endpoint.settings.erase("managementEndpoint");
  auto e = OciKmsClient::from_config(no_endpoint, transport, clock);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("spec.oci.managementEndpoint is empty") == 0);

  auto bad_url = good_config();
  bad_url.settings["managementEndpoint"] = "ftp://vault";
  CHECK_FALSE(OciKmsClient::from_config(bad_url, transport, clock).ok());

  auto bad_key = good_config();
  bad_key.credentials["privateKey"] = "not a key";
  auto k = OciKmsClient::from_config(bad_key, transport, clock);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().kind == ErrorKind::InvalidArgument);
  CHECK(k.error().message.find("credentials Secret key privateKey: ") == 0);

  auto encrypted = good_config();
  auto key = generate("RSA", "2048");
  encrypted.credentials["privateKey"] = to_pem(key.get(), true, "s3cret");
  auto no_pass = OciKmsClient::from_config(encrypted, transport, clock);
  REQUIRE_FALSE(no_pass.ok());
  CHECK(no_pass.error().message.find("no passphrase") != std::string::npos);

  auto wrong_type = good_config();
  wrong_type.type = "aws";
  CHECK_FALSE(OciKmsClient::from_config(wrong_type, transport, clock).ok());

  // compartmentId is needed by the ImportedKey calls only: a CMK-only provider may leave it out.
  auto no_compartment = good_config();
  no_compartment.settings.erase("compartmentId");
  auto client = OciKmsClient::from_config(no_compartment, transport, clock);
  REQUIRE(client.ok());
  auto found = (*client)->find_key(target());
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().kind == ErrorKind::InvalidArgument);
  CHECK(found.error().message.find("spec.oci.compartmentId is empty") != std::string::npos);
  CHECK(transport.requests.empty());
}
