#include "kms/transit/vault_errors.h"

#include <nlohmann/json.hpp>

namespace byok::kms::transit {
namespace {

bool any_contains(const std::vector<std::string>& errors, const char* words) {
  for (const auto& e : errors)
    if (e.find(words) != std::string::npos) return true;
  return false;
}

// Permanent refusals the transit engine returns as bare errors (HTTP 500), by their words in
// builtin/logical/transit (path_import.go) and sdk/helper/keysutil (policy.go): bad material or
// a wrap the wrapping key cannot open.
constexpr const char* kBadMaterial[] = {
    "ciphertext is too short",       // shorter than the 512-byte RSA-OAEP block
    "expected ephemeral AES key",    // the OAEP block did not hold a 256-bit AES key
    "decryption error",              // crypto/rsa: wrong wrapping key or OAEP hash
    "kwp:",                          // AES-KWP integrity check (tink's subtle.KWP)
    "invalid key size",              // material of the wrong length for the type
    "error parsing asymmetric key",  // not PKCS#8, or the wrong algorithm for the type
    "illegal base64",                // ciphertext not base64
    "unknown hash function",
    "does not support public_key import",
};

// Go's multierror text ("2 errors occurred:\n\t* a\n\t* b\n\n") as its entries.
void flatten_into(const std::string& e, std::vector<std::string>& out) {
  if (e.find(" occurred:\n") == std::string::npos) {
    out.push_back(e);
    return;
  }
  size_t at = 0;
  while ((at = e.find("\t* ", at)) != std::string::npos) {
    at += 3;
    size_t end = e.find('\n', at);
    out.push_back(e.substr(at, end == std::string::npos ? std::string::npos : end - at));
  }
}

}  // namespace

std::optional<std::vector<std::string>> parse_vault_errors(const std::string& body) {
  try {
    auto j = nlohmann::json::parse(body);
    if (!j.is_object()) return std::nullopt;
    auto it = j.find("errors");
    if (it == j.end() || !it->is_array()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : *it)
      if (e.is_string()) flatten_into(e.get<std::string>(), out);
    return out;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

ErrorKind vault_error_kind(int status, const std::vector<std::string>& errors) {
  if (status == 401 || (status == 403 && any_contains(errors, "invalid token")))
    return ErrorKind::Unauthenticated;
  if (status == 403) return ErrorKind::PermissionDenied;
  if (status == 404)
    return any_contains(errors, "no handler for route") ? ErrorKind::FailedPrecondition
                                                        : ErrorKind::NotFound;
  if (any_contains(errors, "cannot be used with an existing key")) return ErrorKind::Conflict;
  if (any_contains(errors, "no existing key named") || any_contains(errors, "no key found"))
    return ErrorKind::NotFound;
  if (any_contains(errors, "deletion is not allowed") ||
      any_contains(errors, "can only be used with an imported key") ||
      any_contains(errors, "does not allow rotation"))
    return ErrorKind::FailedPrecondition;
  for (const char* words : kBadMaterial)
    if (any_contains(errors, words)) return ErrorKind::InvalidArgument;
  switch (status) {
    case 400:
      return ErrorKind::InvalidArgument;
    case 405:
      return ErrorKind::Unsupported;
    case 409:
      return ErrorKind::Conflict;
    case 412:
      return ErrorKind::Unavailable;  // a performance standby not yet caught up
    case 429:
      return ErrorKind::Throttled;
    default:
      break;
  }
  if (status >= 500) return ErrorKind::Unavailable;  // sealed (503), standby, internal
  return ErrorKind::Internal;
}

}  // namespace byok::kms::transit
