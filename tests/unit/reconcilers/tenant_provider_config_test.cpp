#include <catch2/catch.hpp>

#include "reconcilers/kms_provider/provider_registry.h"

using namespace byok;

namespace {
kms::EndpointPolicy loopback() {
  auto p = kms::EndpointPolicy::parse({"public", "https://127.0.0.1:8443"});
  REQUIRE(p.ok());
  return *p;
}
}  // namespace

TEST_CASE("a tenant's KmsProvider: every declared URL within the allow-list, no file paths",
          "[kmsprovider][tenancy]") {
  kms::ProviderConfig c;
  c.type = "azure";
  c.endpoint = "https://127.0.0.1:8443";
  c.settings = {{"vaultUrl", "https://team.vault.azure.net"}};
  c.credentials = {{"tenantId", "t"}, {"clientId", "c"}, {"clientSecret", "s"}};
  CHECK(kmsprovider::check_tenant_config(c, loopback()).ok());

  auto refused = [&](kms::ProviderConfig bad, const std::string& names) {
    auto st = kmsprovider::check_tenant_config(bad, loopback());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find(names) != std::string::npos);
    return st.error();
  };
  auto e = c;
  e.endpoint = "https://127.0.0.1:9999";
  CHECK(refused(e, "spec.endpoint").kind == ErrorKind::PermissionDenied);
  e = c;
  e.settings["vaultUrl"] = "https://attacker.example.com";
  refused(e, "spec.azure.vaultUrl");
  e = c;
  e.credentials["authorityHost"] = "HTTPS://attacker.example.com";
  refused(e, "credentials Secret key authorityHost");
  e = c;
  e.credentials["tokenFile"] = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  CHECK(refused(e, "tokenFile").kind == ErrorKind::InvalidArgument);
}

TEST_CASE(
    "a credential that merely mentions URLs (a service account's JSON key) is not a URL, "
    "and no refusal ever echoes a credential",
    "[kmsprovider][tenancy]") {
  kms::ProviderConfig c;
  c.type = "gcp";
  c.credentials = {{"serviceAccountKey",
                    "{\"type\": \"service_account\", \"private_key\": \"SECRET-KEY-BYTES\", "
                    "\"token_uri\": \"https://attacker.example.com/token\"}"}};
  // The transport checks token_uri when the client connects; the JSON is not refused here.
  CHECK(kmsprovider::check_tenant_config(c, loopback()).ok());
  c.credentials = {{"token", "https://user:SECRET-TOKEN@[bad"}};
  auto st = kmsprovider::check_tenant_config(c, loopback());
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("SECRET-TOKEN") == std::string::npos);
}
