#pragma once
// Which objects a KmsProvider serves: a CustomerManagedKey or an ImportedKey names its
// KmsProvider in spec.providerRef.name (same namespace), and is reconciled again when that
// KmsProvider changes, so fixed credentials take effect without waiting for a resync.

#include <string>
#include <vector>

#include "controller/runtime/informer.h"
#include "controller/runtime/store.h"

namespace byok::kmsprovider {

// The index of a users' cache (any kind with spec.providerRef) by the namespaced KmsProvider each
// object names, "namespace/name"; a ClusterKmsProvider's users are in none. main adds it to the
// CustomerManagedKey and ImportedKey caches, so a KmsProvider's change finds its users without
// reading the namespace's other objects.
inline constexpr char kProviderRefIndex[] = "by-namespaced-provider-ref";
std::vector<std::string> provider_ref_index_values(const runtime::Json& object);

// The work-queue keys of the objects in `store` of namespace `ns` that use KmsProvider
// `provider` (from the index).
std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider);
// For a controller's watches(kms_providers(), ...): a KmsProvider's change wakes the objects of
// `users` that use it. A status-only change (same generation) wakes nobody: nothing they depend
// on moved. Refuses (std::logic_error) a cache without the index.
runtime::MapFn users_of_provider(const runtime::Store& users);

}  // namespace byok::kmsprovider
