#pragma once
// How Vault and OpenBao answer a failed request, and which ErrorKind each answer is.
//
// Both answer `{"errors":["..."]}` (the list may be empty, e.g. a 404 for a key that does not
// exist). The status code alone is not enough:
// - 403 is both "this token may not do that" and "there is no such token": for an unknown,
//   expired or revoked token both servers append logical.ErrInvalidToken ("invalid token") to
//   "permission denied", so the message tells Unauthenticated from PermissionDenied;
// - 404 with "no handler for route" means nothing is mounted at that path (wrong mountPath, or
//   the engine is not enabled), not that the key is missing: that is FailedPrecondition, so a
//   CustomerManagedKey is never reported deleted because of a configuration mistake;
// - the transit engine returns several permanent refusals as plain Go errors, which the servers
//   send as HTTP 500 (an import of bad material, an import onto an existing key): those are
//   recognised by their words and not taken for an outage.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace byok::kms::transit {

// The entries of `errors` (possibly none), or nullopt when the body is not a Vault error document.
// Go multierror texts ("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n")
// become one entry per error.
std::optional<std::vector<std::string>> parse_vault_errors(const std::string& body);

// The ErrorKind of an HTTP error answer with these messages.
ErrorKind vault_error_kind(int http_status, const std::vector<std::string>& errors);

}  // namespace byok::kms::transit
