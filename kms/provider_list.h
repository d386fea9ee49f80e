#pragma once
// The one list of providers: each entry pairs a provider's traits with its client class, so the
// traits registry (kms/provider_traits.cpp, light: byokctl links it) and the client factory
// (kms/provider_factory.cpp) read the same lines. A visitor that ignores the client class never
// names its code, so the registry does not pull the HTTP clients into byokctl.
//
// Adding a seventh provider takes: its folder kms/<provider>/ (the client and
// <provider>_traits.{h,cpp}: its wrap specs, state mapping, CMK key check; CMake finds both by
// name); here, one visit() line and its two includes; the type word in the CRDs' enums
// (crds/byok.dev_kmsproviders.yaml and byok.dev_clusterkmsproviders.yaml, plus
// byok.dev_customermanagedkeys.yaml if CMKs may use it); in tests, a config for it in
// tests/unit/kms/provider_traits_test.cpp, which checks this list against the CRDs and every
// algorithm its client offers against its wrap specs. Before this list it took two new files,
// eight production edits outside the folder (the factory, key_state.{h,cpp},
// hsm/wrap_spec.{h,cpp}, cli/commands.cpp, cmk_verification.cpp, wrap_choice.cpp, ik_plan.cpp)
// and about eight test files.

#include <type_traits>

#include "kms/aws/aws_kms_client.h"
#include "kms/aws/aws_traits.h"
#include "kms/azure/azure_traits.h"
#include "kms/azure/key_vault_client.h"
#include "kms/gcp/gcp_kms_client.h"
#include "kms/gcp/gcp_traits.h"
#include "kms/oci/oci_kms_client.h"
#include "kms/oci/oci_traits.h"
#include "kms/thalassa/thalassa_client.h"
#include "kms/thalassa/thalassa_traits.h"
#include "kms/transit/transit_client.h"
#include "kms/transit/transit_traits.h"

namespace byok::kms {

// Calls visit(traits, std::type_identity<Client>{}) for each provider, in this order.
template <typename Visit>
void for_each_provider(Visit&& visit) {
  visit(kAwsTraits, std::type_identity<aws::AwsKmsClient>{});
  visit(kAzureTraits, std::type_identity<azure::KeyVaultClient>{});
  visit(kGcpTraits, std::type_identity<gcp::GcpKmsClient>{});
  visit(kOciTraits, std::type_identity<oci::OciKmsClient>{});
  visit(kTransitTraits, std::type_identity<transit::TransitClient>{});
  visit(kThalassaTraits, std::type_identity<thalassa::ThalassaClient>{});
}

}  // namespace byok::kms
