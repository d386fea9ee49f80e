#include "kms/endpoint_policy.h"

#include <cctype>
#include <string_view>

#include "common/text.h"

namespace byok::kms {
namespace {

bool ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80 || c < 0x20) return false;
  return true;
}

bool ip_literal(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;
  for (char c : host)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  return !host.empty();
}

constexpr std::string_view kRegionToken = "{region}";

// A cloud region's name as a whole DNS label: letters, then dash-separated words, ending in a
// number (us-east-1, us-gov-west-1, eu-frankfurt-1, ap-southeast-5). Not "s3" or a bucket name.
bool region_label(std::string_view label) {
  size_t i = 0;
  while (i < label.size() && std::islower(static_cast<unsigned char>(label[i]))) ++i;
  if (i < 2 || i > 3) return false;
  int words = 0;
  while (i < label.size() && label[i] == '-') {
    size_t start = ++i;
    while (i < label.size() && std::islower(static_cast<unsigned char>(label[i]))) ++i;
    if (i == start) break;  // the final number follows
    ++words;
  }
  if (words < 1 || i == label.size()) return false;
  size_t digits = 0;
  while (i < label.size() && std::isdigit(static_cast<unsigned char>(label[i]))) ++i, ++digits;
  return i == label.size() && digits >= 1 && digits <= 2;
}

// '*' matches one or more characters other than '.'; "{region}" one whole region label.
bool glob_label_match(const char* p, const char* s) {
  if (*p == '\0') return *s == '\0';
  if (std::string_view(p).substr(0, kRegionToken.size()) == kRegionToken) {
    const char* end = s;
    while (*end && *end != '.') ++end;
    return region_label(std::string_view(s, static_cast<size_t>(end - s))) &&
           glob_label_match(p + kRegionToken.size(), end);
  }
  if (*p == '*') {
    for (const char* t = s; *t && *t != '.'; ++t)
      if (glob_label_match(p + 1, t + 1)) return true;
    return false;
  }
  return *p == *s && glob_label_match(p + 1, s + 1);
}

std::string default_port(const std::string& scheme) { return scheme == "https" ? "443" : "80"; }

}  // namespace

const std::vector<std::string>& EndpointPolicy::public_endpoints() {
  static const std::vector<std::string> list = {
      // AWS KMS and STS, commercial and China partitions, FIPS endpoints.
      // ({region} is a whole region label: kms.s3.amazonaws.com, an S3 bucket, does not match.)
      "https://kms.{region}.amazonaws.com",
      "https://kms-fips.{region}.amazonaws.com",
      "https://sts.amazonaws.com",
      "https://sts.{region}.amazonaws.com",
      "https://sts-fips.{region}.amazonaws.com",
      "https://kms.{region}.amazonaws.com.cn",
      "https://sts.{region}.amazonaws.com.cn",
      // Google Cloud KMS and its OAuth token endpoint.
      "https://cloudkms.googleapis.com",
      "https://oauth2.googleapis.com",
      // Azure Key Vault, Managed HSM and Microsoft Entra ID.
      "https://*.vault.azure.net",
      "https://*.managedhsm.azure.net",
      "https://login.microsoftonline.com",
      // OCI Vault: per-vault management and crypto endpoints, and the regional KMS endpoint.
      "https://*-management.kms.{region}.oraclecloud.com",
      "https://*-crypto.kms.{region}.oraclecloud.com",
      "https://kms.{region}.oraclecloud.com",
      "https://kms.{region}.oci.oraclecloud.com",
  };
  return list;
}

Result<EndpointPolicy> EndpointPolicy::parse(const std::vector<std::string>& given) {
  std::vector<std::string> patterns;
  for (const auto& p : given) {
    if (p == "public")
      patterns.insert(patterns.end(), public_endpoints().begin(), public_endpoints().end());
    else
      patterns.push_back(p);
  }
  std::vector<Rule> rules;
  for (const auto& pattern : patterns) {
    auto bad = [&](const std::string& why) {
      return make_error(ErrorKind::InvalidArgument,
                        "endpoint pattern \"" + pattern + "\" " + why +
                            " (expected scheme://host[:port], e.g. https://kms.*.amazonaws.com "
                            "or https://127.0.0.1:*)");
    };
    auto sep = pattern.find("://");
    if (sep == std::string::npos) return bad("has no scheme");
    Rule r;
    r.scheme = ascii_lower(pattern.substr(0, sep));
    if (r.scheme != "https" && r.scheme != "http")
      return bad("has a scheme other than https or http");
    std::string rest = pattern.substr(sep + 3);
    if (rest.empty()) return bad("has no host");
    if (rest.find_first_of("/?#@") != std::string::npos)
      return bad("has a path, query or user part");
    auto host_end = rest.front() == '[' ? rest.find(']') : 0;
    if (host_end == std::string::npos) return bad("has a bad IPv6 host");
    if (auto colon = rest.find(':', host_end); colon != std::string::npos) {
      r.port = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (r.port != "*") {
        if (r.port.empty() || r.port.size() > 5) return bad("has a bad port");
        for (char c : r.port)
          if (!std::isdigit(static_cast<unsigned char>(c))) return bad("has a bad port");
        if (r.port == default_port(r.scheme)) r.port.clear();
      }
    }
    r.host = ascii_lower(rest);
    {
      std::string without = r.host;
      for (size_t at; (at = without.find(kRegionToken)) != std::string::npos;)
        without.replace(at, kRegionToken.size(), "*");
      if (without.find_first_of("{}") != std::string::npos)
        return bad("uses '{' other than in {region}");
    }
    if (!r.host.empty() && r.host.back() == '.') r.host.pop_back();
    if (r.host.empty() || !ascii(r.host)) return bad("has no usable host");
    if (r.host.find_first_of("*{") != std::string::npos) {
      if (ip_literal(r.host) || r.host.find('.') == std::string::npos)
        return bad("uses '*' in an IP address or in a host of one label");
      // The last two labels (the registrable domain) are never wildcards.
      auto last_dot = r.host.rfind('.');
      auto prev_dot = r.host.rfind('.', last_dot - 1);
      std::string tail = r.host.substr(prev_dot == std::string::npos ? 0 : prev_dot + 1);
      if (tail.find_first_of("*{") != std::string::npos) return bad("uses '*' in its domain");
    }
    rules.push_back(std::move(r));
  }
  return EndpointPolicy(false, std::move(rules));
}

Status EndpointPolicy::check(const std::string& url) const {
  if (all_) return {};
  auto parts = parse_url(url);
  if (!parts) return parts.error();
  return check(*parts);
}

Status EndpointPolicy::check(const UrlParts& url) const {
  if (all_) return {};
  std::string host = ascii_lower(url.host);
  if (!host.empty() && host.back() == '.') host.pop_back();
  const std::string port = url.port.empty() || url.port == default_port(url.scheme) ? "" : url.port;
  if (ascii(host)) {
    for (const auto& r : rules_) {
      if (r.scheme != url.scheme) continue;
      if (r.port != "*" && r.port != port) continue;
      bool host_ok = ip_literal(r.host) || ip_literal(host)
                         ? r.host == host
                         : glob_label_match(r.host.c_str(), host.c_str());
      if (host_ok) return {};
    }
  }
  return make_error(
      ErrorKind::PermissionDenied,
      url.scheme + "://" + url.authority() +
          " is not an endpoint the operator may reach for a namespaced KmsProvider "
          "(EndpointNotAllowed): use the provider's public endpoint, or ask a cluster "
          "admin to allow this exact endpoint in the operator's --kms-endpoint-allow "
          "list or to set up a ClusterKmsProvider");
}

}  // namespace byok::kms
