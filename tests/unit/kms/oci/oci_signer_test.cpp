// OCI request signatures against the values OCI's "Request Signatures" page publishes (its
// sample key, example GET and POST requests, their signing strings and signatures), and what the
// signer adds to a request.
#include <catch2/catch.hpp>

#include <regex>

#include "common/base64.h"
#include "kms/oci/oci_signer.h"
#include "tests/unit/kms/oci/oci_test_keys.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::oci;
using namespace byok::kms::oci::testing;

namespace {

const char* kGetUrl =
    "https://iaas.us-phoenix-1.oraclecloud.com/20160918/instances"
    "?availabilityDomain=Pjwf%3A%20PHX-AD-1&"
    "compartmentId=ocid1.compartment.oc1.."
    "aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa"
    "&displayName=TeamXInstances&volumeId=ocid1.volume.oc1.phx."
    "abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q";
const char* kPostUrl = "https://iaas.us-phoenix-1.oraclecloud.com/20160918/volumeAttachments";
const char* kPostBody = R"({
    "compartmentId": "ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa",
    "instanceId": "ocid1.instance.oc1.phx.abuw4ljrlsfiqw6vzzxb43vyypt4pkodawglp3wqxjqofakrwvou52gb6s5a",
    "volumeId": "ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q"
})";

const char* kGetSigningString =
    "date: Thu, 05 Jan 2014 21:31:40 GMT\n"
    "(request-target): get /20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&"
    "compartmentId=ocid1.compartment.oc1.."
    "aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa"
    "&displayName=TeamXInstances&volumeId=ocid1.volume.oc1.phx."
    "abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q\n"
    "host: iaas.us-phoenix-1.oraclecloud.com";
const char* kGetSignature =
    "GBas7grhyrhSKHP6AVIj/h5/Vp8bd/"
    "peM79H9Wv8kjoaCivujVXlpbKLjMPeDUhxkFIWtTtLBj3sUzaFj34XE6YZAHc9r2D"
    "mE4pMwOAy/kiITcZxa1oHPOeRheC0jP2dqbTll8fmTZVwKZOKHYPtrLJIJQHJjNvxFWeHQjMaR7M=";
const char* kPostSigningString =
    "date: Thu, 05 Jan 2014 21:31:40 GMT\n"
    "(request-target): post /20160918/volumeAttachments\n"
    "host: iaas.us-phoenix-1.oraclecloud.com\n"
    "content-length: 316\n"
    "content-type: application/json\n"
    "x-content-sha256: V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0=";
const char* kPostSignature =
    "Mje8vIDPlwIHmD/cTDwRxE7HaAvBg16JnVcsuqaNRim23fFPgQfLoOOxae6WqKb1uPjYEl0qIdazWaBy/"
    "Ml8DRhqlocMwoS"
    "Xv0fbukP8J5N80LCmzT/FFBvIvTB91XuXI3hYfP9Zt1l7S6ieVadHUfqBedWH0itrtPJBgKmrWso=";

// The page's Date, verbatim. It says Thursday although 5 January 2014 was a Sunday (the value
// comes from draft-cavage's examples); the signature covers the header as written, so the
// vectors set it as written and sign with authorize(), which keeps the request's date.
const char* kPublishedDate = "Thu, 05 Jan 2014 21:31:40 GMT";

SystemTime published_time() {
  SystemTime t;
  REQUIRE(parse_rfc3339("2014-01-05T21:31:40Z", t));
  return t;
}

std::string published_key_id() {
  return std::string(kPublishedTenancy) + "/" + kPublishedUser + "/" + kPublishedFingerprint;
}

RequestSigner published_signer() {
  auto s = RequestSigner::create(published_key_id(), kPublishedKeyPem);
  REQUIRE(s.ok());
  return *s;
}

size_t count_headers(const HttpHeaders& headers, const std::string& lower_name) {
  size_t n = 0;
  for (const auto& h : headers) {
    std::string name = h.first;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    n += name == lower_name;
  }
  return n;
}

}  // namespace

TEST_CASE("oci: the published GET example: signing string, signature and Authorization header",
          "[kms][oci]") {
  auto signer = published_signer();
  HttpRequest req{"GET", kGetUrl, {{"date", kPublishedDate}}, ""};
  REQUIRE(signer.authorize(req).ok());

  CHECK(find_header(req.headers, "date") == kPublishedDate);
  CHECK(find_header(req.headers, "host") == "iaas.us-phoenix-1.oraclecloud.com");
  CHECK(find_header(req.headers, "x-content-sha256").empty());  // GET signs no body headers
  CHECK(find_header(req.headers, "content-length").empty());
  auto text = signing_string("GET", std::string(kGetUrl).substr(41), req.headers,
                             "date (request-target) host");
  REQUIRE(text.ok());
  CHECK(*text == kGetSigningString);
  CHECK(find_header(req.headers, "authorization") ==
        "Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"" +
            published_key_id() + "\",algorithm=\"rsa-sha256\",signature=\"" + kGetSignature + "\"");
}

TEST_CASE("oci: the published POST example: body headers, signing string and signature",
          "[kms][oci]") {
  auto signer = published_signer();
  HttpRequest req{"POST",
                  kPostUrl,
                  {{"Content-Type", "application/json"}, {"date", kPublishedDate}},
                  kPostBody};
  REQUIRE(signer.authorize(req).ok());

  CHECK(find_header(req.headers, "content-length") == "316");
  CHECK(find_header(req.headers, "content-type") == "application/json");
  CHECK(count_headers(req.headers, "content-type") == 1);
  CHECK(find_header(req.headers, "x-content-sha256") ==
        "V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0=");
  auto text = signing_string("POST", "/20160918/volumeAttachments", req.headers,
                             signed_header_names("POST"));
  REQUIRE(text.ok());
  CHECK(*text == kPostSigningString);
  CHECK(find_header(req.headers, "authorization") ==
        "Signature version=\"1\",headers=\"date (request-target) host content-length content-type "
        "x-content-sha256\",keyId=\"" +
            published_key_id() + "\",algorithm=\"rsa-sha256\",signature=\"" + kPostSignature +
            "\"");
  auto direct = signer.sign_string(kPostSigningString);
  REQUIRE(direct.ok());
  CHECK(*direct == kPostSignature);
}

TEST_CASE("oci: sign() dates the request itself and signs that date", "[kms][oci]") {
  auto signer = published_signer();
  HttpRequest req{"GET", kGetUrl, {{"Date", "stale"}}, ""};
  REQUIRE(signer.sign(req, published_time()).ok());
  CHECK(find_header(req.headers, "date") == "Sun, 05 Jan 2014 21:31:40 GMT");
  CHECK(count_headers(req.headers, "date") == 1);
  std::string expected_text = kGetSigningString;
  expected_text.replace(expected_text.find("Thu"), 3, "Sun");
  auto text = signing_string("GET", std::string(kGetUrl).substr(41), req.headers,
                             signed_header_names("GET"));
  REQUIRE(text.ok());
  CHECK(*text == expected_text);
  auto signature = signer.sign_string(expected_text);
  REQUIRE(signature.ok());
  CHECK(find_header(req.headers, "authorization").find("signature=\"" + *signature + "\"") !=
        std::string::npos);

  HttpRequest undated{"GET", kGetUrl, {}, ""};
  auto refused = signer.authorize(undated);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::InvalidArgument);
}

TEST_CASE("oci: signed header lists follow the method", "[kms][oci]") {
  CHECK(signed_header_names("GET") == "date (request-target) host");
  CHECK(signed_header_names("DELETE") == "date (request-target) host");
  for (const char* m : {"POST", "PUT", "PATCH"})
    CHECK(signed_header_names(m) ==
          "date (request-target) host content-length content-type x-content-sha256");
}

TEST_CASE("oci: an empty POST body still signs content-length 0 and the empty body's hash",
          "[kms][oci]") {
  auto signer = published_signer();
  HttpRequest req{
      "POST", "https://kms.example.com:8443/20180608/keys/k/actions/cancelDeletion", {}, ""};
  REQUIRE(signer.sign(req, published_time()).ok());
  CHECK(find_header(req.headers, "content-length") == "0");
  CHECK(find_header(req.headers, "content-type") == "application/json");
  CHECK(find_header(req.headers, "x-content-sha256") ==
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  CHECK(find_header(req.headers, "host") == "kms.example.com:8443");  // non-default port kept

  std::smatch m;
  std::string auth = find_header(req.headers, "authorization");
  REQUIRE(std::regex_search(auth, m, std::regex("signature=\"([^\"]+)\"")));
  auto sig = base64_decode(m[1].str());
  REQUIRE(sig.ok());
  auto key = read_private_pem(kPublishedKeyPem);
  CHECK(verify_rsa_sha256(key.get(),
                          "date: Sun, 05 Jan 2014 21:31:40 GMT\n"
                          "(request-target): post /20180608/keys/k/actions/cancelDeletion\n"
                          "host: kms.example.com:8443\n"
                          "content-length: 0\n"
                          "content-type: application/json\n"
                          "x-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                          *sig));
}

TEST_CASE("oci: signing replaces earlier date, host and authorization headers", "[kms][oci]") {
  auto signer = published_signer();
  HttpRequest req{"GET",
                  "https://kms.example.com:443/20180608/wrappingKeys",
                  {{"Date", "yesterday"}, {"Host", "elsewhere"}, {"Authorization", "Bearer x"}},
                  ""};
  REQUIRE(signer.sign(req, published_time()).ok());
  CHECK(count_headers(req.headers, "date") == 1);
  CHECK(count_headers(req.headers, "host") == 1);
  CHECK(count_headers(req.headers, "authorization") == 1);
  CHECK(find_header(req.headers, "host") == "kms.example.com");  // default port left out
  CHECK(find_header(req.headers, "authorization").rfind("Signature version=\"1\"", 0) == 0);
}

TEST_CASE("oci: the Date header is an IMF-fixdate in GMT", "[kms][oci]") {
  SystemTime t;
  REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", t));
  CHECK(http_date(t) == "Mon, 23 Nov 2026 15:38:00 GMT");
  REQUIRE(parse_rfc3339("2000-02-29T00:00:09Z", t));
  CHECK(http_date(t) == "Tue, 29 Feb 2000 00:00:09 GMT");
}

TEST_CASE("oci: a signed header missing from the request is an error, not an empty line",
          "[kms][oci]") {
  auto text = signing_string("GET", "/", {{"date", "x"}}, "date (request-target) host");
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().kind == ErrorKind::InvalidArgument);
  CHECK(text.error().message.find("header host") != std::string::npos);
}

TEST_CASE("oci: an encrypted PKCS #8 API key signs with its passphrase and is refused without it",
          "[kms][oci]") {
  auto key = generate("RSA", "2048");
  std::string pem = to_pem(key.get(), true, "correct horse");

  auto signer = RequestSigner::create("t/u/f", pem, "correct horse");
  REQUIRE(signer.ok());
  auto sig = signer->sign_string("date: x");
  REQUIRE(sig.ok());
  auto raw = base64_decode(*sig);
  REQUIRE(raw.ok());
  CHECK(verify_rsa_sha256(key.get(), "date: x", *raw));
  CHECK_FALSE(verify_rsa_sha256(key.get(), "date: y", *raw));

  auto wrong = RequestSigner::create("t/u/f", pem, "battery staple");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == ErrorKind::InvalidArgument);
  CHECK(wrong.error().message.find("with the given passphrase") != std::string::npos);

  auto none = RequestSigner::create("t/u/f", pem, "");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("no passphrase was given") != std::string::npos);
}

TEST_CASE("oci: API keys that are not RSA private keys are refused", "[kms][oci]") {
  auto ec = generate("EC", "P-256");
  auto not_rsa = RequestSigner::create("t/u/f", to_pem(ec.get(), true));
  REQUIRE_FALSE(not_rsa.ok());
  CHECK(not_rsa.error().kind == ErrorKind::InvalidArgument);
  CHECK(not_rsa.error().message.find("not an RSA key") != std::string::npos);

  auto garbage = RequestSigner::create(
      "t/u/f", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().kind == ErrorKind::InvalidArgument);

  auto public_only = RequestSigner::create("t/u/f", to_pem(ec.get(), false));
  REQUIRE_FALSE(public_only.ok());
}
