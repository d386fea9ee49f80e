// Short strings that arrive from outside and are parsed by hand: durations, RFC 3339 times (from
// KMS answers and spec.validTo), URLs, Azure vault and key ids, bind addresses, Google
// service-account keys, endpoint allow-list patterns, glob patterns.
#include <fuzzer/FuzzedDataProvider.h>

#include "common/clock.h"
#include "controller/observability/http_server.h"
#include "kms/azure/key_vault_ids.h"
#include "kms/endpoint_policy.h"
#include "kms/gcp/service_account.h"
#include "kms/http_transport.h"
#include "common/duration.h"
#include "reconcilers/customer_managed_key/cmk_verification.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"

using namespace byok;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string a = in.ConsumeRandomLengthString(512);
  std::string b = in.ConsumeRandomLengthString(512);
  (void)parse_duration(a);
  SystemTime t;
  if (parse_rfc3339(a, t)) (void)format_rfc3339(t);
  if (auto url = kms::parse_url(a)) {
    (void)url->authority();
    if (auto policy = kms::EndpointPolicy::parse({b})) (void)policy->check(*url);
  }
  if (auto vault = kms::azure::parse_vault_url(a)) (void)kms::azure::parse_key_id(b, *vault);
  (void)kms::azure::parse_kid(b);
  (void)observability::parse_bind_address(a);
  (void)kms::gcp::parse_service_account_key(in.ConsumeRemainingBytesAsString());
  (void)hsmpolicy::glob_match(a, b);
  return 0;
}
