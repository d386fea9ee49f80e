#pragma once
// Vault URLs, key identifiers and the token scope of Azure Key Vault and Managed HSM.
//
// A key identifier is https://{vault-name}.vault.azure.net/keys/{key-name}[/{key-version}]
// (Managed HSM: {hsm-name}.managedhsm.azure.net; other clouds: vault.azure.cn,
// vault.usgovcloudapi.net, ...). Microsoft says identifiers compare case-insensitively.
//
// The token scope is the vault's resource plus "/.default". Every vault of a cloud shares one
// resource, the vault host's DNS suffix: https://vault.azure.net for <name>.vault.azure.net,
// https://managedhsm.azure.net for <name>.managedhsm.azure.net, https://vault.azure.cn in
// Azure China, and so on; it is also what a vault names in its 401 challenge
// (WWW-Authenticate: Bearer authorization="...", resource="https://vault.azure.net").

#include <string>
#include <string_view>

#include "common/result.h"

namespace byok::kms::azure {

struct VaultUrl {
  std::string url;           // "https://host[:port]", no trailing slash
  std::string host;          // lower case, without port
  bool managed_hsm = false;  // a Managed HSM pool (its host has a "managedhsm" label)
};

// Accepts "https://host[:port][/]"; InvalidArgument naming what is wrong (not https, a path, no
// host, an IP address: the scope cannot be derived from one).
Result<VaultUrl> parse_vault_url(std::string_view url);

// "https://<host without its first label>/.default", e.g. https://vault.azure.net/.default.
std::string key_vault_scope(const VaultUrl& vault);

// Key Vault object names: 1-127 of [0-9a-zA-Z-].
bool valid_key_name(std::string_view name);

struct KeyRef {
  std::string name;
  std::string version;  // empty: the latest
};

// spec.resource as a user writes it: a key identifier of `vault` (another vault's is
// InvalidArgument), or a bare "name" / "name/version".
Result<KeyRef> parse_key_id(std::string_view key_id, const VaultUrl& vault);

// A kid from an answer: scheme://authority/keys/name[/version]; the authority is not checked
// (behind an endpoint override it is the server's own).
Result<KeyRef> parse_kid(std::string_view kid);

}  // namespace byok::kms::azure
