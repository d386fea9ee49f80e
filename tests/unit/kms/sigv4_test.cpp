// SigV4 against AWS's published test vectors: the "aws-sig-v4-test-suite" (2015-08-30 edition,
// credentials AKIDEXAMPLE, region us-east-1, service "service") and the worked IAM ListUsers
// example of the SigV4 documentation. Expected strings are copied from the suite's .creq, .sts
// and .authz files.
#include <catch2/catch.hpp>

#include "common/clock.h"
#include "kms/aws/sigv4.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::aws;

namespace {

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kScope{"us-east-1", "service"};
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SystemTime at_20150830T123600Z() {
  SystemTime t;
  REQUIRE(parse_rfc3339("2015-08-30T12:36:00Z", t));
  return t;
}

HttpHeaders vanilla_headers() {
  return {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
}

std::string authz(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

}  // namespace

TEST_CASE(
    "sigv4 get-vanilla matches the published canonical request and string to sign and signature",
    "[kms][sigv4]") {
  auto sig =
      sign_parts("GET", "/", "", vanilla_headers(), "", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
            kEmptyHash);
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(
      sig.authorization ==
      authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST_CASE("sigv4 post-vanilla", "[kms][sigv4]") {
  auto sig =
      sign_parts("POST", "/", "", vanilla_headers(), "", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87");
  CHECK(sig.signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST_CASE("sigv4 get-vanilla-query-order-key-case sorts query parameters by name", "[kms][sigv4]") {
  auto sig = sign_parts("GET", "/", "Param2=value2&Param1=value1", vanilla_headers(), "", kCreds,
                        kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request ==
        "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
            kEmptyHash);
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  CHECK(sig.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("sigv4 get-vanilla-query-order-key sorts equal names by value bytewise", "[kms][sigv4]") {
  auto sig = sign_parts("GET", "/", "Param1=value2&Param1=Value1", vanilla_headers(), "", kCreds,
                        kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request.find("\nParam1=Value1&Param1=value2\n") != std::string::npos);
  CHECK(sig.signature == "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1");
}

TEST_CASE("sigv4 get-vanilla-utf8-query percent-encodes UTF-8 names", "[kms][sigv4]") {
  auto sig = sign_parts("GET", "/", "\xe1\x88\xb4=bar", vanilla_headers(), "", kCreds, kScope,
                        at_20150830T123600Z());
  CHECK(sig.canonical_request.find("\n%E1%88%B4=bar\n") != std::string::npos);
  CHECK(sig.signature == "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
}

TEST_CASE("sigv4 get-unreserved leaves unreserved path characters alone", "[kms][sigv4]") {
  const std::string path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  auto sig =
      sign_parts("GET", path, "", vanilla_headers(), "", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request.rfind("GET\n" + path + "\n\n", 0) == 0);
  CHECK(sig.signature == "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f");
}

TEST_CASE("sigv4 get-header-value-trim trims and collapses header values", "[kms][sigv4]") {
  HttpHeaders h = {{"Host", "example.amazonaws.com"},
                   {"My-Header1", " value1"},
                   {"My-Header2", " \"a   b   c\""},
                   {"X-Amz-Date", "20150830T123600Z"}};
  auto sig = sign_parts("GET", "/", "", h, "", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
        "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
            kEmptyHash);
  CHECK(sig.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST_CASE("sigv4 get-header-value-order joins repeated headers in order", "[kms][sigv4]") {
  HttpHeaders h = {{"Host", "example.amazonaws.com"}, {"My-Header1", "value4"},
                   {"My-Header1", "value1"},          {"My-Header1", "value3"},
                   {"My-Header1", "value2"},          {"X-Amz-Date", "20150830T123600Z"}};
  auto sig = sign_parts("GET", "/", "", h, "", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request.find("\nmy-header1:value4,value1,value3,value2\n") !=
        std::string::npos);
  CHECK(sig.signature == "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01");
}

TEST_CASE("sigv4 post-x-www-form-urlencoded hashes the body", "[kms][sigv4]") {
  // The suite's .authz and .sts for this vector sign content-type;host;x-amz-date (a later
  // revision of its .creq also lists content-length, which does not match the published
  // signature); this pins the published signature.
  HttpHeaders h = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Host", "example.amazonaws.com"},
                   {"X-Amz-Date", "20150830T123600Z"}};
  auto sig = sign_parts("POST", "/", "", h, "Param1=value1", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.canonical_request ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  CHECK(sig.authorization ==
        authz("content-type;host;x-amz-date",
              "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST_CASE("sigv4 post-x-www-form-urlencoded-parameters", "[kms][sigv4]") {
  HttpHeaders h = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"},
                   {"Host", "example.amazonaws.com"},
                   {"X-Amz-Date", "20150830T123600Z"}};
  auto sig = sign_parts("POST", "/", "", h, "Param1=value1", kCreds, kScope, at_20150830T123600Z());
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "2e1cf7ed91881a30569e46552437e4156c823447bf1781b921b5d486c568dd1c");
  CHECK(sig.signature == "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe");
}

TEST_CASE("sigv4 post-sts-header-before signs the session token header", "[kms][sigv4]") {
  const std::string token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
      "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT"
      "7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlz"
      "m8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  Credentials creds = kCreds;
  creds.session_token = token;
  // Through sign_request, so the signer itself adds X-Amz-Date and X-Amz-Security-Token.
  HttpRequest req{"POST", "https://example.amazonaws.com/", {}, ""};
  REQUIRE(sign_request(req, creds, kScope, at_20150830T123600Z()).ok());
  CHECK(find_header(req.headers, "Host") == "example.amazonaws.com");
  CHECK(find_header(req.headers, "X-Amz-Date") == "20150830T123600Z");
  CHECK(find_header(req.headers, "X-Amz-Security-Token") == token);
  CHECK(find_header(req.headers, "Authorization") ==
        authz("host;x-amz-date;x-amz-security-token",
              "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

TEST_CASE("sigv4 documentation example: IAM ListUsers signing key and signature", "[kms][sigv4]") {
  // The worked example of the SigV4 documentation ("Create a signed AWS API request").
  CHECK(hex_encode(derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                      "us-east-1", "iam")) ==
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  HttpRequest req{"GET",
                  "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                  {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                  ""};
  auto sig = sign_parts("GET", "/", "Action=ListUsers&Version=2010-05-08",
                        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                         {"Host", "iam.amazonaws.com"},
                         {"X-Amz-Date", "20150830T123600Z"}},
                        "", kCreds, SigningScope{"us-east-1", "iam"}, at_20150830T123600Z());
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  CHECK(sig.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  // sign_request derives the same from the URL.
  REQUIRE(sign_request(req, kCreds, SigningScope{"us-east-1", "iam"}, at_20150830T123600Z()).ok());
  CHECK(find_header(req.headers, "Authorization")
            .find("Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7") !=
        std::string::npos);
}

TEST_CASE("sign_request puts a non-default port in Host and replaces stale signing headers",
          "[kms][sigv4]") {
  HttpRequest req{"POST",
                  "http://127.0.0.1:4599/",
                  {{"X-Amz-Date", "19990101T000000Z"}, {"Authorization", "stale"}},
                  "{}"};
  REQUIRE(sign_request(req, kCreds, SigningScope{"eu-west-1", "kms"}, at_20150830T123600Z()).ok());
  CHECK(find_header(req.headers, "Host") == "127.0.0.1:4599");
  int dates = 0, auths = 0;
  for (const auto& [k, v] : req.headers) {
    dates += k == "X-Amz-Date";
    auths += k == "Authorization";
  }
  CHECK(dates == 1);
  CHECK(auths == 1);
  CHECK(find_header(req.headers, "X-Amz-Date") == "20150830T123600Z");
  CHECK(find_header(req.headers, "X-Amz-Security-Token").empty());
}

TEST_CASE("sign_request refuses empty credentials", "[kms][sigv4]") {
  HttpRequest req{"POST", "https://kms.eu-west-1.amazonaws.com/", {}, ""};
  auto s =
      sign_request(req, Credentials{}, SigningScope{"eu-west-1", "kms"}, at_20150830T123600Z());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind == ErrorKind::Unauthenticated);
}
