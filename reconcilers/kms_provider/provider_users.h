#pragma once
// Which objects a KmsProvider serves: a CustomerManagedKey or an ImportedKey names its
// KmsProvider in spec.providerRef.name (same namespace), and is reconciled again when that
// KmsProvider changes, so fixed credentials take effect without waiting for a resync.

#include <string>
#include <vector>

#include "controller/runtime/informer.h"
#include "controller/runtime/store.h"

namespace byok::kmsprovider {

// The work-queue keys of the objects in `store` (any kind with spec.providerRef) of namespace
// `ns` that use KmsProvider `provider`.
std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider);
// For a controller's watches(kms_providers(), ...): a KmsProvider's change wakes the objects of
// `users` that use it. A status-only change (same generation) wakes nobody: nothing they depend
// on moved.
runtime::MapFn users_of_provider(const runtime::Store& users);

}  // namespace byok::kmsprovider
