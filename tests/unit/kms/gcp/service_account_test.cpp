// The service-account key file and the RS256 JWT grant built from it.
#include <catch2/catch.hpp>

#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.h"
#include "kms/gcp/service_account.h"
#include "tests/unit/kms/gcp/gcp_test_support.h"

using namespace byok;
using namespace byok::kms::gcp;
using namespace byok::kms::gcp::testing;

namespace {

// True when `sig` is a valid RS256 signature of `data` under the public half of `pem`.
bool rs256_verifies(const std::string& pem, const std::string& data, const std::string& sig) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), -1), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out(1);
  for (char x : s) {
    if (x == c)
      out.emplace_back();
    else
      out.back().push_back(x);
  }
  return out;
}

}  // namespace

TEST_CASE("RS256 reproduces RFC 7515 appendix A.2's signature", "[kms][gcp]") {
  // RSASSA-PKCS1-v1_5 is deterministic: the published key must give the published bytes.
  const std::string input =
      "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxl"
      "LmNvbS9pc19yb290Ijp0cnVlfQ";
  auto sig = rs256_sign(kRfc7515Pem, input);
  REQUIRE(sig.ok());
  CHECK(
      base64url_encode(*sig) ==
      "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
      "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
      "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
      "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw");
}

TEST_CASE("the JWT grant names the account, the KMS scope and the token URI, for one hour",
          "[kms][gcp]") {
  auto key = parse_service_account_key(sa_key_json().dump());
  REQUIRE(key.ok());
  SystemTime now;
  REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", now));
  auto jwt = make_jwt_assertion(*key, kCloudKmsScope, now);
  REQUIRE(jwt.ok());
  auto parts = split(*jwt, '.');
  REQUIRE(parts.size() == 3);
  auto header = Json::parse(*base64_decode(parts[0]));
  auto claims = Json::parse(*base64_decode(parts[1]));
  CHECK(header == Json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "kid-1"}});
  CHECK(claims["iss"] == kEmail);
  CHECK(claims["sub"] == kEmail);
  CHECK(claims["scope"] == "https://www.googleapis.com/auth/cloudkms");
  CHECK(claims["aud"] == kTokenUri);
  CHECK(claims["iat"] == 1795448280);  // 2026-11-23T15:38:00Z
  CHECK(claims["exp"] == 1795448280 + 3600);
  // base64url without padding, as JWS compact serialization wants.
  CHECK(jwt->find_first_of("+/=") == std::string::npos);
  auto sig = base64_decode(parts[2]);
  REQUIRE(sig.ok());
  CHECK(sig->size() == 256);
  CHECK(rs256_verifies(kRfc7515Pem, parts[0] + "." + parts[1], *sig));
  // A changed claim no longer verifies: the signature covers header and claims.
  auto forged = Json::parse(*base64_decode(parts[1]));
  forged["sub"] = "someone-else@example.com";
  CHECK_FALSE(rs256_verifies(kRfc7515Pem, parts[0] + "." + base64url_encode(forged.dump()), *sig));
}

TEST_CASE("a service-account key file is read, and a wrong one is refused naming what is wrong",
          "[kms][gcp]") {
  auto key = parse_service_account_key(sa_key_json().dump());
  REQUIRE(key.ok());
  CHECK(key->client_email == kEmail);
  CHECK(key->project_id == "proj-1");
  CHECK(key->client_id == "1234567890");
  CHECK(key->token_uri == kTokenUri);

  auto no_uri = sa_key_json();
  no_uri.erase("token_uri");
  CHECK(parse_service_account_key(no_uri.dump())->token_uri ==
        "https://oauth2.googleapis.com/token");

  struct Case {
    std::function<void(Json&)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](Json& j) { j["type"] = "authorized_user"; }, "type is \"authorized_user\""},
      {[](Json& j) { j.erase("client_email"); }, "client_email is missing"},
      {[](Json& j) { j.erase("private_key"); }, "private_key is missing"},
      {[](Json& j) {
         j["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
       },
       "not a PEM private key"},
  };
  for (const auto& c : cases) {
    auto j = sa_key_json();
    c.change(j);
    auto r = parse_service_account_key(j.dump());
    INFO(c.message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
    CHECK(r.error().message.find(c.message) != std::string::npos);
  }
  auto garbage = parse_service_account_key("{not json");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().kind == ErrorKind::InvalidArgument);

  // An EC key is a PEM private key, but Google's grants are RS256.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(PEM_write_bio_PrivateKey(bio.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
          1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto j = sa_key_json();
  j["private_key"] = std::string(data, static_cast<size_t>(len));
  auto r = parse_service_account_key(j.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "private_key is not an RSA key");
  // The key itself never appears in a message.
  CHECK(r.error().message.find("BEGIN") == std::string::npos);
}
