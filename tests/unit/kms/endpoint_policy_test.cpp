#include <catch2/catch.hpp>

#include "kms/endpoint_policy.h"

using byok::ErrorKind;
using byok::kms::EndpointPolicy;

namespace {
EndpointPolicy policy(const std::vector<std::string>& patterns) {
  auto p = EndpointPolicy::parse(patterns);
  REQUIRE(p.ok());
  return *p;
}
}  // namespace

TEST_CASE("the default allow-list: the providers' public https endpoints and nothing else",
          "[endpoint-policy]") {
  auto p = policy(EndpointPolicy::public_endpoints());
  for (const char* ok :
       {"https://kms.us-east-1.amazonaws.com/", "https://KMS.eu-west-1.amazonaws.com./x",
        "https://sts.us-east-1.amazonaws.com", "https://kms.us-gov-west-1.amazonaws.com",
        "https://kms.cn-north-1.amazonaws.com.cn", "https://cloudkms.googleapis.com/v1/x",
        "https://oauth2.googleapis.com/token", "https://my-vault.vault.azure.net/keys/k",
        "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        "https://abc-management.kms.us-ashburn-1.oraclecloud.com/20180608/keys"}) {
    INFO(ok);
    CHECK(p.check(std::string(ok)).ok());
  }
  for (const char* bad :
       {"http://kms.us-east-1.amazonaws.com/",           // http
        "https://kms.us-east-1.amazonaws.com:8443/",     // another port
        "https://kms.us-east-1.amazonaws.com.evil.io/",  // suffix trick
        "https://evil.io/kms.us-east-1.amazonaws.com",
        "https://kms.a.b.amazonaws.com/",  // '*' is one label
        "https://kms.s3.amazonaws.com/",   // an S3 bucket named kms
        "https://kms-fips.s3.amazonaws.com/", "https://sts.s3-website.amazonaws.com/",
        "https://kms.us-east.amazonaws.com/",        // not region-shaped
        "https://169.254.169.254/latest/meta-data",  // metadata service
        "https://127.0.0.1:8200/", "https://[::1]/", "https://vault.azure.net/",
        "https://x.vault.azure.net@evil.io/",
        "https://m\xc3\xbcnchen.vault.azure.net/"}) {  // IDN not in xn-- form
    INFO(bad);
    auto st = p.check(std::string(bad));
    CHECK_FALSE(st.ok());
    if (!st.ok())
      CHECK((st.error().kind == ErrorKind::PermissionDenied ||
             st.error().kind == ErrorKind::InvalidArgument));
  }
}

TEST_CASE("an admin's patterns: IP literals only exactly, ports exactly or '*', http only if said",
          "[endpoint-policy]") {
  auto p = policy({"https://127.0.0.1:*", "http://127.0.0.1:8200"});
  CHECK(p.check(std::string("https://127.0.0.1:4566/")).ok());
  CHECK(p.check(std::string("http://127.0.0.1:8200/v1/transit/keys")).ok());
  CHECK_FALSE(p.check(std::string("http://127.0.0.1:8201/")).ok());
  CHECK_FALSE(p.check(std::string("https://127.0.0.2:4566/")).ok());
  CHECK_FALSE(p.check(std::string("https://localhost:4566/")).ok());
  auto st = p.check(std::string("https://10.0.0.1/"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("EndpointNotAllowed") != std::string::npos);
  CHECK(st.error().message.find("--kms-endpoint-allow") != std::string::npos);
  CHECK(EndpointPolicy::allow_all().check(std::string("http://anything:1/")).ok());
  // "public" adds the official endpoints to the admin's own.
  auto both = policy({"public", "https://127.0.0.1:8200"});
  CHECK(both.check(std::string("https://kms.us-east-1.amazonaws.com/")).ok());
  CHECK(both.check(std::string("https://127.0.0.1:8200/")).ok());
  CHECK_FALSE(both.check(std::string("https://127.0.0.1:8201/")).ok());
}

TEST_CASE("patterns that would allow too much are refused at start-up", "[endpoint-policy]") {
  for (const char* bad : {"kms.amazonaws.com", "ftp://x.example.com", "https://*", "https://*.com",
                          "https://kms.{regoin}.amazonaws.com", "https://{region}.com",
                          "https://kms.*", "https://x.*.com", "https://1.2.*.4", "https://a.b/path",
                          "https://a.example.com:http", "https://user@a.example.com", "https://"}) {
    INFO(bad);
    CHECK_FALSE(EndpointPolicy::parse({bad}).ok());
  }
}
