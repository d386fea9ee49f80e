// AwsKmsClient against a scripted transport: what it sends (protocol, target, signature scope,
// body), how it reads answers and errors, and when it retries.
#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "tests/unit/kms/scripted_transport.h"
#include "kms/aws/aws_kms_client.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::aws;
using Json = nlohmann::json;

namespace {

using FixedClock = kms::testing::SettableClock;
using FakeTransport = kms::testing::ScriptedTransport;
using kms::testing::answer;

struct Fixture {
  FixedClock clock;
  FakeTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<AwsKmsClient> client;

  explicit Fixture(std::string endpoint = "http://127.0.0.1:4599", std::string token = "") {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    AwsKmsConfig cfg;
    cfg.region = "eu-west-1";
    cfg.kms_endpoint = endpoint;
    cfg.sts_endpoint = endpoint.empty() ? "" : endpoint + "/sts/";
    cfg.credentials = {"AKIDEXAMPLE", "secret", token};
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<AwsKmsClient>(cfg, transport, clock, env);
  }
};

const char* kDescribeAnswer = R"({"KeyMetadata":{
  "AWSAccountId":"111122223333","KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab",
  "Arn":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  "CreationDate":1.7639123E9,"Enabled":false,"KeyState":"PendingDeletion",
  "DeletionDate":1764517100.5,"KeySpec":"SYMMETRIC_DEFAULT","KeyUsage":"ENCRYPT_DECRYPT",
  "Origin":"EXTERNAL","KeyManager":"CUSTOMER","CurrentKeyMaterialId":"m-1"}})";

}  // namespace

TEST_CASE("DescribeKey sends a signed JSON 1.1 request and reads KeyMetadata", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(200, kDescribeAnswer); };
  auto key = f.client->describe_key("alias/payments");
  REQUIRE(key.ok());
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == "http://127.0.0.1:4599/");
  CHECK(find_header(req.headers, "Content-Type") == "application/x-amz-json-1.1");
  CHECK(find_header(req.headers, "X-Amz-Target") == "TrentService.DescribeKey");
  CHECK(find_header(req.headers, "Host") == "127.0.0.1:4599");
  CHECK(find_header(req.headers, "X-Amz-Date") == "20261123T153800Z");
  CHECK(Json::parse(req.body) == Json{{"KeyId", "alias/payments"}});
  std::string auth = find_header(req.headers, "Authorization");
  CHECK(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-1/kms/aws4_request, "
                   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                   0) == 0);
  // The signature covers exactly what was sent.
  HttpHeaders unsigned_headers;
  for (const auto& h : req.headers)
    if (h.first != "Authorization") unsigned_headers.push_back(h);
  auto again = sign_parts("POST", "/", "", unsigned_headers, req.body,
                          {"AKIDEXAMPLE", "secret", ""}, {"eu-west-1", "kms"}, f.clock.wall);
  CHECK(auth == again.authorization);

  CHECK(key->key_id == "1234abcd-12ab-34cd-56ef-1234567890ab");
  CHECK(key->resource ==
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  CHECK(key->state == "PendingDeletion");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Deleted);
  CHECK(key->key_spec == "SYMMETRIC_DEFAULT");
  CHECK(key->key_usage == "ENCRYPT_DECRYPT");
  CHECK(key->origin == "EXTERNAL");
  CHECK(key->imported);
  CHECK(key->version == "m-1");  // the material in use
  CHECK_FALSE(key->enabled);
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2025-11-23T15:38:20Z");
  REQUIRE(key->deletion_date.has_value());
}

TEST_CASE("the default endpoint is the region's KMS endpoint over TLS", "[kms][aws]") {
  Fixture f("");
  f.transport.handler = [](const HttpRequest&) { return answer(200, kDescribeAnswer); };
  REQUIRE(f.client->describe_key("k").ok());
  CHECK(f.transport.requests[0].url == "https://kms.eu-west-1.amazonaws.com/");
  CHECK(find_header(f.transport.requests[0].headers, "Host") == "kms.eu-west-1.amazonaws.com");
  CHECK(f.client->sts_endpoint() == "https://sts.eu-west-1.amazonaws.com");
}

TEST_CASE("a session token is sent and signed", "[kms][aws]") {
  Fixture f("http://127.0.0.1:4599", "session-token");
  f.transport.handler = [](const HttpRequest&) { return answer(200, kDescribeAnswer); };
  REQUIRE(f.client->describe_key("k").ok());
  const auto& req = f.transport.requests[0];
  CHECK(find_header(req.headers, "X-Amz-Security-Token") == "session-token");
  CHECK(find_header(req.headers, "Authorization").find("x-amz-security-token;x-amz-target") !=
        std::string::npos);
}

TEST_CASE("AWS error answers map to error kinds with messages naming the call and the cause",
          "[kms][aws]") {
  struct Case {
    int status;
    std::string body;
    ErrorKind kind;
    std::string code;
  };
  const Case cases[] = {
      {400, R"({"__type":"NotFoundException","message":"Key 'arn:x' does not exist"})",
       ErrorKind::NotFound, "NotFoundException"},
      {400, R"({"__type":"com.amazonaws.kms#AccessDeniedException","Message":"not allowed"})",
       ErrorKind::PermissionDenied, "AccessDeniedException"},
      {400,
       R"({"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."})",
       ErrorKind::Unauthenticated, "UnrecognizedClientException"},
      {400, R"({"__type":"InvalidSignatureException","message":"bad signature"})",
       ErrorKind::Unauthenticated, "InvalidSignatureException"},
      {400, R"({"__type":"KMSInvalidStateException","message":"is pending deletion"})",
       ErrorKind::FailedPrecondition, "KMSInvalidStateException"},
      {400, R"({"__type":"ValidationException","message":"bad input"})", ErrorKind::InvalidArgument,
       "ValidationException"},
      {400, R"({"__type":"UnsupportedOperationException","message":"no"})", ErrorKind::Unsupported,
       "UnsupportedOperationException"},
      {403, "", ErrorKind::PermissionDenied, ""},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) { return answer(c.status, c.body); };
    auto r = f.client->describe_key("arn:x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == c.kind);
    CHECK(r.error().message.rfind("KMS DescribeKey: " + c.code, 0) == 0);
    CHECK(r.error().message.find("(HTTP " + std::to_string(c.status) + ")") != std::string::npos);
    CHECK(f.transport.requests.size() == 1);  // none of these is worth retrying
  }
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(400, R"({"__type":"NotFoundException","message":"Key 'arn:x' does not exist"})");
  };
  CHECK(f.client->describe_key("arn:x").error().message ==
        "KMS DescribeKey: NotFoundException: Key 'arn:x' does not exist (HTTP 400)");
}

TEST_CASE("the x-amzn-ErrorType header names the error when the body does not", "[kms][aws]") {
  auto [code, message] = parse_aws_error("", "ThrottlingException:http://internal.amazon.com/");
  CHECK(code == "ThrottlingException");
  CHECK(aws_error_kind(code, 400) == ErrorKind::Throttled);
  CHECK(aws_error_kind("", 502) == ErrorKind::Unavailable);
  CHECK(aws_error_kind("KMSInternalException", 500) == ErrorKind::Unavailable);
}

TEST_CASE(
    "DescribeKey retries throttling and 5xx with growing jittered delays and re-signs each try",
    "[kms][aws]") {
  Fixture f;
  int n = 0;
  f.transport.handler = [&](const HttpRequest&) -> Result<HttpResponse> {
    ++n;
    if (n == 1) return answer(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
    if (n == 2) return answer(503, "");
    return answer(200, kDescribeAnswer);
  };
  auto r = f.client->describe_key("k");
  REQUIRE(r.ok());
  CHECK(f.transport.requests.size() == 3);
  // base 100 ms, doubling; equal jitter at random 0.5 gives 3/4 of each step.
  REQUIRE(f.sleeps.size() == 2);
  CHECK(f.sleeps[0] == std::chrono::milliseconds(75));
  CHECK(f.sleeps[1] == std::chrono::milliseconds(150));
}

TEST_CASE("DescribeKey gives up after the configured attempts and says so", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(500, R"({"__type":"KMSInternalException","message":"oops"})");
  };
  auto r = f.client->describe_key("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unavailable);
  CHECK(f.transport.requests.size() == 3);
  CHECK(r.error().message.find("KMSInternalException: oops") != std::string::npos);
  CHECK(r.error().message.find("gave up after 3 attempts") != std::string::npos);
}

TEST_CASE("aws: a transport failure is Unavailable and names the call", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::Unavailable, "POST http://127.0.0.1:4599/: Connection refused");
  };
  auto r = f.client->describe_key("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unavailable);
  CHECK(r.error().message.rfind("KMS DescribeKey: POST http://127.0.0.1:4599/: Connection refused",
                                0) == 0);
}

TEST_CASE("CreateKey and ImportKeyMaterial are sent once even on throttling or 5xx", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(503, ""); };
  auto created = f.client->create_key(CreateKeyRequest{});
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().kind == ErrorKind::Unavailable);
  CHECK(f.transport.requests.size() == 1);
  f.transport.handler = [](const HttpRequest&) {
    return answer(400, R"({"__type":"ThrottlingException","message":"slow down"})");
  };
  auto imported = f.client->import_key_material(ImportMaterialRequest{"k", "token", "wrapped", {}});
  REQUIRE_FALSE(imported.ok());
  CHECK(imported.error().kind == ErrorKind::Throttled);
  CHECK(f.transport.requests.size() == 2);
  CHECK(f.sleeps.empty());
}

TEST_CASE("CreateKey with Origin EXTERNAL sends spec and usage and origin and tags", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(
        200,
        R"({"KeyMetadata":{"KeyId":"k1","Arn":"arn:k1","KeyState":"PendingImport","Enabled":false,"Origin":"EXTERNAL","KeySpec":"SYMMETRIC_DEFAULT","KeyUsage":"ENCRYPT_DECRYPT","CreationDate":1763912300}})");
  };
  CreateKeyRequest req;
  req.description = "byok test";
  req.origin = "EXTERNAL";
  req.tags = {{"byok.dev/owner", "default/cmk-a"}};
  auto key = f.client->create_key(req);
  REQUIRE(key.ok());
  CHECK(key->state == "PendingImport");
  CHECK(*key->status == CmkStatus::Old);
  CHECK_FALSE(key->holds_material);  // a container awaiting its import
  const auto& sent = f.transport.requests[0];
  CHECK(find_header(sent.headers, "X-Amz-Target") == "TrentService.CreateKey");
  CHECK(
      Json::parse(sent.body) ==
      Json{{"Description", "byok test"},
           {"KeySpec", "SYMMETRIC_DEFAULT"},
           {"KeyUsage", "ENCRYPT_DECRYPT"},
           {"Origin", "EXTERNAL"},
           {"Tags", Json::array({{{"TagKey", "byok.dev/owner"}, {"TagValue", "default/cmk-a"}}})}});
}

TEST_CASE("ScheduleKeyDeletion checks the 7..30 day window before sending", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(
        200,
        R"({"KeyId":"arn:k1","KeyState":"PendingDeletion","DeletionDate":1764517100,"PendingWindowInDays":7})");
  };
  auto bad = f.client->schedule_key_deletion("k1", 6);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
  auto ok = f.client->schedule_key_deletion("k1", 7);
  REQUIRE(ok.ok());
  CHECK(ok->state == "PendingDeletion");
  CHECK(ok->deletion_date.has_value());
  CHECK(Json::parse(f.transport.requests[0].body) ==
        Json{{"KeyId", "k1"}, {"PendingWindowInDays", 7}});
}

TEST_CASE("the state-changing calls name their targets", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(200, ""); };
  REQUIRE(f.client->disable_key("k1").ok());
  REQUIRE(f.client->enable_key("k1").ok());
  REQUIRE(f.client->cancel_key_deletion("k1").ok());
  REQUIRE(f.client->delete_imported_key_material("k1").ok());
  std::vector<std::string> targets;
  for (const auto& r : f.transport.requests)
    targets.push_back(find_header(r.headers, "X-Amz-Target"));
  CHECK(targets == std::vector<std::string>{"TrentService.DisableKey", "TrentService.EnableKey",
                                            "TrentService.CancelKeyDeletion",
                                            "TrentService.DeleteImportedKeyMaterial"});
  for (const auto& r : f.transport.requests) CHECK(Json::parse(r.body) == Json{{"KeyId", "k1"}});
}

TEST_CASE("GetCallerIdentity speaks STS's query protocol and reads the caller ARN", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200,
                  R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::111122223333:user/byok&amp;ops</Arn>
    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>
    <Account>111122223333</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>)");
  };
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == "arn:aws:iam::111122223333:user/byok&ops");
  CHECK(who->account == "111122223333");
  CHECK(who->id == "AIDACKCEVSQ6C2EXAMPLE");
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == "http://127.0.0.1:4599/sts/");
  CHECK(req.body == "Action=GetCallerIdentity&Version=2011-06-15");
  CHECK(find_header(req.headers, "Content-Type") ==
        "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(find_header(req.headers, "X-Amz-Target").empty());
  CHECK(find_header(req.headers, "Authorization").find("/20261123/eu-west-1/sts/aws4_request") !=
        std::string::npos);
}

TEST_CASE("STS XML errors map like KMS ones", "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(403, R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
  <Message>The security token included in the request is invalid.</Message></Error>
</ErrorResponse>)");
  };
  auto who = f.client->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
  CHECK(who.error().message ==
        "STS GetCallerIdentity: InvalidClientTokenId: The security token included in the "
        "request is invalid. (HTTP 403)");
}

// --- the import path, against a fake that really unwraps what it is sent ---

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

std::string oaep_sha256(EVP_PKEY* key, const std::string& in, bool encrypt) {
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  REQUIRE(ctx);
  REQUIRE((encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) == 1);
  size_t len = 0;
  auto* inp = reinterpret_cast<const unsigned char*>(in.data());
  auto op = encrypt ? EVP_PKEY_encrypt : EVP_PKEY_decrypt;
  if (op(ctx.get(), nullptr, &len, inp, in.size()) != 1) return "";
  std::string out(len, '\0');
  if (op(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, inp, in.size()) != 1)
    return "";
  out.resize(len);
  return out;
}

}  // namespace

TEST_CASE("wrapping key and import: the material wrapped under the fetched key is what arrives",
          "[kms][aws][import]") {
  Pkey kek(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  REQUIRE(kek);
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(kek.get(), &der);
  REQUIRE(der_len > 0);
  std::string public_der(reinterpret_cast<char*>(der), der_len);
  OPENSSL_free(der);
  const std::string token = std::string("import-token-\x00\xff", 15);
  std::string received;

  Fixture f;
  f.transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    auto body = Json::parse(r.body);
    std::string target = find_header(r.headers, "X-Amz-Target");
    if (target == "TrentService.GetParametersForImport") {
      CHECK(body == Json{{"KeyId", "k1"},
                         {"WrappingAlgorithm", "RSAES_OAEP_SHA_256"},
                         {"WrappingKeySpec", "RSA_2048"}});
      return answer(200, Json{{"KeyId", "arn:k1"},
                              {"PublicKey", base64_encode(public_der)},
                              {"ImportToken", base64_encode(token)},
                              {"ParametersValidTo", 1764000000.25}}
                             .dump());
    }
    if (target == "TrentService.ImportKeyMaterial") {
      if (*base64_decode(body.value("ImportToken", "")) != token)
        return answer(400, R"({"__type":"InvalidImportTokenException","message":"wrong token"})");
      CHECK(body.value("ExpirationModel", "") == "KEY_MATERIAL_DOES_NOT_EXPIRE");
      CHECK_FALSE(body.contains("ValidTo"));
      received =
          oaep_sha256(kek.get(), *base64_decode(body.value("EncryptedKeyMaterial", "")), false);
      if (received.empty())
        return answer(400,
                      R"({"__type":"IncorrectKeyMaterialException","message":"cannot unwrap"})");
      return answer(200, R"({"KeyId":"arn:k1","KeyMaterialId":"m-1"})");
    }
    return answer(400, R"({"__type":"UnknownOperationException"})");
  };

  auto wrapping = f.client->get_parameters_for_import({"k1", "RSAES_OAEP_SHA_256", "RSA_2048"});
  REQUIRE(wrapping.ok());
  CHECK(wrapping->public_key_der == public_der);
  CHECK(wrapping->import_token == token);
  CHECK(wrapping->algorithm == "RSAES_OAEP_SHA_256");
  REQUIRE(wrapping->expires.has_value());

  // The software side: wrap a fresh 32-byte AES key under the fetched public key.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(wrapping->public_key_der.data());
  Pkey pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(wrapping->public_key_der.size())));
  REQUIRE(pub);
  std::string material(32, '\0');
  REQUIRE(RAND_bytes(reinterpret_cast<unsigned char*>(material.data()), 32) == 1);
  std::string wrapped = oaep_sha256(pub.get(), material, true);
  REQUIRE(wrapped.size() == 256);

  auto imported = f.client->import_key_material({"k1", wrapping->import_token, wrapped, {}});
  REQUIRE(imported.ok());
  CHECK(imported->version == "m-1");
  CHECK(received == material);

  // One flipped byte of the wrap fails the unwrap, and the error says so.
  wrapped[17] ^= 0x01;
  auto broken = f.client->import_key_material({"k1", wrapping->import_token, wrapped, {}});
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().kind == ErrorKind::InvalidArgument);
  CHECK(broken.error().message.find("KMS ImportKeyMaterial: IncorrectKeyMaterialException") == 0);
}

TEST_CASE("imported material with an expiry sends ValidTo in epoch seconds", "[kms][aws][import]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(200, R"({"KeyId":"k1"})"); };
  SystemTime valid_to;
  REQUIRE(parse_rfc3339("2027-01-01T00:00:00Z", valid_to));
  auto r = f.client->import_key_material({"k1", "t", "w", valid_to});
  REQUIRE(r.ok());
  auto body = Json::parse(f.transport.requests[0].body);
  CHECK(body["ExpirationModel"] == "KEY_MATERIAL_EXPIRES");
  // An integer, as AWS's SDKs send it (a fraction is refused by some servers, e.g. local-kms).
  REQUIRE(body["ValidTo"].is_number_integer());
  CHECK(body["ValidTo"].get<int64_t>() == 1798761600);
  CHECK(*base64_decode(body["ImportToken"].get<std::string>()) == "t");
  CHECK(*base64_decode(body["EncryptedKeyMaterial"].get<std::string>()) == "w");
}

TEST_CASE(
    "a rotation imports NEW_KEY_MATERIAL into the key the wrapping key names, and the "
    "first import names no ImportType",
    "[kms][aws][import]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    if (find_header(r.headers, "X-Amz-Target") == "TrentService.ImportKeyMaterial")
      return answer(
          200, R"({"KeyId":"arn:aws:kms:eu-west-1:111122223333:key/k1","KeyMaterialId":"m-2"})");
    if (find_header(r.headers, "X-Amz-Target") == "TrentService.RotateKeyOnDemand")
      return answer(200, R"({"KeyId":"arn:aws:kms:eu-west-1:111122223333:key/k1"})");
    return answer(400, R"({"__type":"UnsupportedOperationException","message":"unexpected"})");
  };
  ImportTarget target;
  target.name = "ik";
  target.key_type = "aes256-gcm96";
  WrappingKey wrapping;
  wrapping.key_id = "k1";
  wrapping.import_token = "t";
  auto rotated = f.client->import_key(target, wrapping, "w", ImportKind::NewVersion);
  REQUIRE(rotated.ok());
  CHECK(rotated->version == "m-2");
  CHECK(rotated->resource == "arn:aws:kms:eu-west-1:111122223333:key/k1");
  auto body = Json::parse(f.transport.requests[0].body);
  CHECK(body["KeyId"] == "k1");
  CHECK(body["ImportType"] == "NEW_KEY_MATERIAL");
  CHECK(body["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE");
  // New material stays PENDING_ROTATION until an on-demand rotation makes it current.
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(find_header(f.transport.requests[1].headers, "X-Amz-Target") ==
        "TrentService.RotateKeyOnDemand");
  CHECK(Json::parse(f.transport.requests[1].body)["KeyId"] == "k1");

  auto first = f.client->import_key(target, wrapping, "w", ImportKind::First);
  REQUIRE(first.ok());
  REQUIRE(f.transport.requests.size() == 3);
  CHECK_FALSE(Json::parse(f.transport.requests[2].body).contains("ImportType"));
}

TEST_CASE(
    "prepare_import resumes with the key named by id or by ARN, and refuses an alias on "
    "another key",
    "[kms][aws][import]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    auto target = find_header(r.headers, "X-Amz-Target");
    if (target == "TrentService.DescribeKey")
      return answer(200, kDescribeAnswer);  // the alias's key
    if (target == "TrentService.GetParametersForImport")
      return answer(
          200,
          R"({"KeyId":"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ImportToken":"dA==","PublicKey":"cA==","ParametersValidTo":1.8E9})");
    return answer(400, R"({"__type":"UnsupportedOperationException","message":"unexpected"})");
  };
  ImportTarget target;
  target.name = "ik";
  target.key_type = "aes256-gcm96";
  target.wrapping_algorithm = "RSAES_OAEP_SHA_256";
  CHECK(f.client->prepare_import(target, "1234abcd-12ab-34cd-56ef-1234567890ab").ok());
  CHECK(
      f.client
          ->prepare_import(
              target, "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
          .ok());
  auto other = f.client->prepare_import(target, "ffffffff-12ab-34cd-56ef-1234567890ab");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().kind == ErrorKind::AlreadyExists);
  CHECK(other.error().message ==
        "alias/ik names key 1234abcd-12ab-34cd-56ef-1234567890ab, not "
        "ffffffff-12ab-34cd-56ef-1234567890ab");
}

TEST_CASE("from_config names the missing field", "[kms][aws]") {
  RealClock clock;
  ProviderConfig config;
  config.type = "aws";
  auto transport = make_http_transport();
  auto no_region = AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE_FALSE(no_region.ok());
  CHECK(no_region.error().message.find("spec.region") == 0);
  config.region = "eu-west-1";
  config.credentials = {{"accessKeyId", "AKID"}};
  auto no_secret = AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE_FALSE(no_secret.ok());
  CHECK(no_secret.error().kind == ErrorKind::InvalidArgument);
  CHECK(no_secret.error().message.find("secretAccessKey") != std::string::npos);
  config.credentials["secretAccessKey"] = "secret";
  config.endpoint = "https://127.0.0.1:1";
  auto ok = AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE(ok.ok());
  CHECK((*ok)->kms_endpoint() == "https://127.0.0.1:1");
  // STS is a separate host: a KMS VPC or FIPS endpoint does not answer GetCallerIdentity.
  CHECK((*ok)->sts_endpoint() == "https://sts.eu-west-1.amazonaws.com");
  config.settings["stsEndpoint"] = "https://sts.vpce.example:443/";
  auto own_sts = AwsKmsClient::from_config(config, *transport, clock);
  REQUIRE(own_sts.ok());
  CHECK((*own_sts)->kms_endpoint() == "https://127.0.0.1:1");
  CHECK((*own_sts)->sts_endpoint() == "https://sts.vpce.example:443");
}

TEST_CASE("a KMS that answers Truncated forever is asked a bounded number of pages", "[kms][aws]") {
  Fixture f;
  int calls = 0;
  f.transport.handler = [&](const kms::HttpRequest&) -> Result<kms::HttpResponse> {
    ++calls;
    // Empty pages, each with a new marker: only the page cap stops it.
    return answer(
        200, R"({"Keys":[],"Truncated":true,"NextMarker":"m)" + std::to_string(calls) + R"("})");
  };
  auto keys = f.client->list_keys();
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().message.find("KmsTooManyPages") != std::string::npos);
  CHECK(calls == AwsKmsClient::kMaxPages);

  calls = 0;
  f.transport.handler = [&](const kms::HttpRequest&) -> Result<kms::HttpResponse> {
    ++calls;
    return answer(200, R"({"Tags":[],"Truncated":true,"NextMarker":"same"})");
  };
  auto tags = f.client->list_resource_tags("k");
  REQUIRE_FALSE(tags.ok());
  CHECK(tags.error().message.find("the same NextMarker twice") != std::string::npos);
  CHECK(calls == 2);
}

TEST_CASE("find_key scans the account by owner tag only when a create may have begun",
          "[kms][aws]") {
  Fixture f;
  std::vector<std::string> targets;
  f.transport.handler = [&](const kms::HttpRequest& req) -> Result<kms::HttpResponse> {
    targets.push_back(kms::find_header(req.headers, "X-Amz-Target"));
    if (targets.back() == "TrentService.DescribeKey")
      return answer(400, R"({"__type":"NotFoundException","message":"Alias not found"})");
    if (targets.back() == "TrentService.ListKeys")
      return answer(200, R"({"Keys":[{"KeyId":"k1"},{"KeyId":"k2"}],"Truncated":false})");
    return answer(200, R"({"Tags":[],"Truncated":false})");
  };
  ImportTarget target;
  target.name = "team-a-key";
  target.owner = "uid-1";
  // The first attempt ever: no key can exist without its alias, so the alias alone answers.
  target.unnamed_key_possible = false;
  auto none = f.client->find_key(target);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(targets == std::vector<std::string>{"TrentService.DescribeKey"});
  // After a create began: every key's tags are read (a request per key in the account).
  targets.clear();
  target.unnamed_key_possible = true;
  REQUIRE(f.client->find_key(target).ok());
  CHECK(targets == std::vector<std::string>{"TrentService.DescribeKey", "TrentService.ListKeys",
                                            "TrentService.ListResourceTags",
                                            "TrentService.ListResourceTags"});
}

TEST_CASE(
    "what AWS would refuse is refused before anything is created: alias names, ValidTo "
    "beyond 365 days or past, rotation of asymmetric keys",
    "[kms][aws][import]") {
  Fixture f;  // now: 2026-11-23T15:38:00Z
  ImportTarget t;
  t.name = "payments";
  t.key_type = "aes256-gcm96";
  t.owner = "uid-1";
  t.wrapping_algorithm = "RSAES_OAEP_SHA_256";
  auto at = [](const char* text) {
    SystemTime when;
    REQUIRE(parse_rfc3339(text, when));
    return when;
  };
  auto refused = [&](const ImportTarget& target, const std::string& words) {
    auto st = f.client->check_target(target, f.clock.now());
    INFO(target.name << " " << words);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == ErrorKind::InvalidArgument);
    CHECK(st.error().message.find(words) != std::string::npos);
    // prepare_import asks the same before CreateKey: nothing is sent.
    auto prepared = f.client->prepare_import(target, "");
    REQUIRE_FALSE(prepared.ok());
    CHECK(f.transport.requests.empty());
  };
  CHECK(f.client->check_target(t, f.clock.now()).ok());
  t.name = "team-a/payments_v2:blue";  // every character AWS allows
  CHECK(f.client->check_target(t, f.clock.now()).ok());

  auto dotted = t;
  dotted.name = "payments.v2";  // a Kubernetes name may have dots; an alias may not
  refused(dotted, "alias/payments... has the byte 0x2E");
  // A tenant's non-ASCII name: the byte is named in hex, so the message stays valid UTF-8.
  auto accented = t;
  accented.name = "caf\xc3\xa9";
  refused(accented, "alias/caf... has the byte 0xC3");
  auto long_name = t;
  long_name.name = std::string(251, 'k');  // alias/ + 251 = 257
  refused(long_name, "257 characters, AWS allows 256");
  long_name.name = std::string(250, 'k');
  CHECK(f.client->check_target(long_name, f.clock.now()).ok());
  auto reserved = t;
  reserved.name = "aws/payments";
  refused(reserved, "alias/aws/, which AWS keeps");

  auto late = t;
  late.valid_to = at("2027-11-24T15:38:01Z");  // 366 days ahead
  refused(late, "spec.validTo 2027-11-24T15:38:01Z is more than 365 days ahead");
  CHECK(f.client->check_target(late, f.clock.now())
            .error()
            .message.find("set spec.validTo before 2027-11-23T15:38:00Z") != std::string::npos);
  late.valid_to = at("2027-11-23T15:38:00Z");  // exactly 365 days: allowed
  CHECK(f.client->check_target(late, f.clock.now()).ok());
  auto past = t;
  past.valid_to = at("2026-11-23T15:37:59Z");
  refused(past, "has passed");

  auto rsa = t;
  rsa.key_type = "rsa-3072";
  rsa.wrapping_algorithm = "RSA_AES_KEY_WRAP_SHA_256";
  CHECK(f.client->check_target(rsa, f.clock.now()).ok());
  rsa.allow_rotation = true;
  refused(rsa, "spec.allowRotation: AWS KMS takes new imported material");
  auto ec = rsa;
  ec.key_type = "ecdsa-p384";
  refused(ec, "so this ecdsa-p384 key could never rotate");
  auto symmetric = t;
  symmetric.allow_rotation = true;
  CHECK(f.client->check_target(symmetric, f.clock.now()).ok());
}

TEST_CASE(
    "a request that ran out of its whole deadline is not sent again inside the call, even "
    "an idempotent one",
    "[kms][aws]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) -> Result<kms::HttpResponse> {
    return make_error(ErrorKind::DeadlineExceeded,
                      "no whole answer within 60000 ms (KmsRequestTimeout)");
  };
  auto r = f.client->describe_key("k1");  // idempotent: Unavailable would be tried three times
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::DeadlineExceeded);
  CHECK(f.transport.requests.size() == 1);
  CHECK(f.sleeps.empty());
}
