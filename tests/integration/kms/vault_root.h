#pragma once
// A call to the test Vault (tests/harness/transit-kms.sh) with its root token, for what the
// operator itself never does: encrypt, sign, or set a key up behind the operator's back.
// Fails the test unless Vault answers 2xx.

#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kms/http_transport.h"
#include "tests/harness/server_env.h"

namespace byok::testing {

inline nlohmann::json vault_root_call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body = nullptr) {
  auto env = ServerEnv::for_provider("transit");
  auto transport =
      kms::make_http_transport({std::chrono::seconds(10), env.file("BYOK_TRANSIT_CA_FILE")});
  kms::HttpRequest req{
      method,
      env["BYOK_TRANSIT_ENDPOINT"] + "/v1/" + path,
      {{"X-Vault-Token", env["BYOK_TRANSIT_ROOT_TOKEN"]}, {"Content-Type", "application/json"}},
      body.is_null() ? "" : body.dump()};
  auto resp = transport->send(req);
  if (!resp) FAIL(method << " " << path << ": " << resp.error().message);
  INFO(method << " " << path << " -> " << resp->status << " " << resp->body);
  REQUIRE(resp->status / 100 == 2);
  return resp->body.empty() ? nlohmann::json::object() : nlohmann::json::parse(resp->body);
}

}  // namespace byok::testing
