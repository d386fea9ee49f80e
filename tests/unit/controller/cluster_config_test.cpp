#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/base64.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/client.h"

using namespace byok;

namespace {
std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "byok-unit-kubeconfig";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << text;
  return p;
}
}  // namespace

TEST_CASE("kubeconfig: inline data, files relative to the kubeconfig, current context",
          "[kubeconfig]") {
  write_temp("ca.crt", "CA-PEM");
  auto p = write_temp("config", R"(apiVersion: v1
kind: Config
current-context: test
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: ca.crt
contexts:
- name: test
  context: {cluster: c, user: u, namespace: team-a}
- name: other
  context: {cluster: c, user: t}
users:
- name: u
  user:
    client-certificate-data: )" + base64_encode("CERT-PEM") +
                                    R"(
    client-key-data: )" + base64_encode("KEY-PEM") +
                                    R"(
- name: t
  user: {token: abc}
)");
  auto cfg = kube::load_kubeconfig(p.string());
  REQUIRE(cfg.ok());
  CHECK(cfg->server == "https://127.0.0.1:6443");
  CHECK(cfg->ca_pem == "CA-PEM");
  CHECK(cfg->client_cert_pem == "CERT-PEM");
  CHECK(cfg->client_key_pem == "KEY-PEM");
  CHECK(cfg->namespace_ == "team-a");
  auto other = kube::load_kubeconfig(p.string(), "other");
  REQUIRE(other.ok());
  CHECK(other->bearer_token == "abc");
  auto missing = kube::load_kubeconfig(p.string(), "nope");
  REQUIRE_FALSE(missing.ok());
  INFO(missing.error().message);
  CHECK(missing.error().message.find("no context named 'nope'") != std::string::npos);
}

TEST_CASE("HTTP statuses map to error kinds with the apiserver's message", "[client]") {
  auto e = kube::error_from_http(
      409, R"({"kind":"Status","message":"the object has been modified"})", "PATCH /x");
  CHECK(e.kind == ErrorKind::Conflict);
  CHECK(e.message == "PATCH /x: HTTP 409: the object has been modified");
  CHECK(kube::error_from_http(410, "", "w").kind == ErrorKind::Gone);
  CHECK(kube::error_from_http(429, "", "w").kind == ErrorKind::Throttled);
  CHECK(kube::error_from_http(503, "", "w").kind == ErrorKind::Unavailable);
  CHECK(kube::error_from_http(422, "", "w").kind == ErrorKind::InvalidArgument);
  CHECK(kube::error_from_http(403, "", "w").kind == ErrorKind::PermissionDenied);
}

TEST_CASE(
    "a throttled or unavailable apiserver answer carries the wait it asked, from the header or "
    "the Status's details",
    "[client]") {
  const std::string status429 =
      R"({"kind":"Status","code":429,"message":"too many requests","details":{"retryAfterSeconds":4}})";
  // The header wins; without it the Status's details say it (a watch's ERROR event).
  CHECK(kube::error_from_http(429, status429, "w", "7").retry_after == std::chrono::seconds(7));
  CHECK(kube::error_from_http(429, status429, "w").retry_after == std::chrono::seconds(4));
  CHECK(kube::error_from_http(503, "", "w", "2").retry_after == std::chrono::seconds(2));
  // Nothing asked, an HTTP-date (not read), or a status that asks nothing: no wait.
  CHECK_FALSE(kube::error_from_http(429, "", "w").retry_after);
  CHECK_FALSE(kube::error_from_http(429, "", "w", "Wed, 21 Oct 2026 07:28:00 GMT").retry_after);
  CHECK_FALSE(kube::error_from_http(409, status429, "w", "7").retry_after);
  CHECK_FALSE(
      kube::error_from_http(429, R"({"details":{"retryAfterSeconds":-3}})", "w").retry_after);
}
