#include "kms/azure/key_vault_ids.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "kms/http_transport.h"

namespace byok::kms::azure {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_ip_literal(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](unsigned char c) { return std::isdigit(c) || c == '.'; });
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto at = s.find(sep, start);
    parts.emplace_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

bool valid_version(std::string_view v) {
  return !v.empty() && v.size() <= 64 &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isalnum(c); });
}

// "name" or "name/version", after "/keys/" (a trailing slash tolerated).
Result<KeyRef> parse_name_version(std::string_view rest, std::string_view whole) {
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto parts = split(rest, '/');
  if (parts.empty() || parts.size() > 2 || !valid_key_name(parts[0]))
    return make_error(ErrorKind::InvalidArgument,
                      "'" + std::string(whole) +
                          "' does not name a Key Vault key (keys/<name>[/<version>], name of "
                          "1-127 letters, digits and dashes)");
  KeyRef ref{parts[0], parts.size() == 2 ? parts[1] : ""};
  if (parts.size() == 2 && !valid_version(ref.version))
    return make_error(ErrorKind::InvalidArgument,
                      "'" + std::string(whole) + "' has a malformed key version");
  return ref;
}

}  // namespace

Result<VaultUrl> parse_vault_url(std::string_view url) {
  auto parts = parse_url(url);
  if (!parts)
    return make_error(ErrorKind::InvalidArgument, "vault URL '" + std::string(url) +
                                                      "' is not a URL: " + parts.error().message);
  if (parts->scheme != "https")
    return make_error(ErrorKind::InvalidArgument,
                      "vault URL '" + std::string(url) + "' must start with https://");
  if (parts->path != "/" || !parts->query.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "vault URL '" + std::string(url) +
                          "' must be the vault's root, e.g. https://my-vault.vault.azure.net");
  VaultUrl v;
  v.host = lower(parts->host);
  if (is_ip_literal(v.host) || std::count(v.host.begin(), v.host.end(), '.') < 2)
    return make_error(ErrorKind::InvalidArgument,
                      "vault URL '" + std::string(url) +
                          "' must use the vault's DNS name (<name>.vault.azure.net or "
                          "<name>.managedhsm.azure.net): the token scope is derived from it");
  v.url = "https://" + lower(parts->authority());
  auto labels = split(v.host, '.');
  v.managed_hsm = labels.size() > 1 && labels[1] == "managedhsm";
  return v;
}

std::string key_vault_scope(const VaultUrl& vault) {
  return "https://" + vault.host.substr(vault.host.find('.') + 1) + "/.default";
}

bool valid_key_name(std::string_view name) {
  return !name.empty() && name.size() <= 127 &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-'; });
}

Result<KeyRef> parse_key_id(std::string_view key_id, const VaultUrl& vault) {
  if (key_id.find("://") == std::string_view::npos) return parse_name_version(key_id, key_id);
  auto parts = parse_url(key_id);
  if (!parts)
    return make_error(ErrorKind::InvalidArgument,
                      "'" + std::string(key_id) + "' is not a key identifier URL");
  std::string authority = parts->scheme + "://" + lower(parts->authority());
  if (authority != vault.url)
    return make_error(ErrorKind::InvalidArgument,
                      "key '" + std::string(key_id) + "' is in vault " + authority +
                          ", but this provider's vaultUrl is " + vault.url);
  if (lower(parts->path.substr(0, 6)) != "/keys/" || !parts->query.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "'" + std::string(key_id) + "' is not a key identifier (.../keys/<name>)");
  return parse_name_version(std::string_view(parts->path).substr(6), key_id);
}

Result<KeyRef> parse_kid(std::string_view kid) {
  auto parts = parse_url(kid);
  if (!parts || lower(parts->path.substr(0, 6)) != "/keys/")
    return make_error(ErrorKind::Internal,
                      "kid '" + std::string(kid) + "' is not a key identifier");
  auto ref = parse_name_version(std::string_view(parts->path).substr(6), kid);
  if (!ref) return make_error(ErrorKind::Internal, ref.error().message);
  return ref;
}

}  // namespace byok::kms::azure
