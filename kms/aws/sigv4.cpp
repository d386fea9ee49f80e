#include "kms/aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/text.h"

namespace byok::kms::aws {
namespace {

// Trims both ends and collapses runs of spaces, as the canonical header value wants.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (!query.empty()) {
    size_t amp = query.find('&', start);
    std::string_view item =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string k = percent_decode(item.substr(0, eq));
      std::string v = eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1));
      params.emplace_back(percent_encode(k, false), percent_encode(v, false));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) return "/";
  return percent_encode(path, true);
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string derive_signing_key(std::string_view secret, std::string_view date_stamp,
                               std::string_view region, std::string_view service) {
  std::string k_date = hmac_sha256("AWS4" + std::string(secret), date_stamp);
  std::string k_region = hmac_sha256(k_date, region);
  std::string k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string amz_date(SystemTime t) { return format_utc(t, "%Y%m%dT%H%M%SZ"); }

Signature sign_parts(std::string_view method, std::string_view path, std::string_view query,
                     const HttpHeaders& headers, std::string_view payload,
                     const Credentials& credentials, const SigningScope& scope, SystemTime now) {
  Signature sig;
  sig.amz_date = amz_date(now);
  std::string date_stamp = sig.amz_date.substr(0, 8);

  // Same-name headers join with commas in the order given; names sort bytewise.
  std::map<std::string, std::string> canon;
  for (const auto& [name, value] : headers) {
    std::string key = ascii_lower(name);
    std::string v = canonical_header_value(value);
    auto [it, inserted] = canon.emplace(key, v);
    if (!inserted) it->second += "," + v;
  }
  std::string canonical_headers;
  for (const auto& [k, v] : canon) {
    canonical_headers += k + ":" + v + "\n";
    if (!sig.signed_headers.empty()) sig.signed_headers += ';';
    sig.signed_headers += k;
  }

  sig.canonical_request = std::string(method) + "\n" + canonical_uri(path) + "\n" +
                          canonical_query(query) + "\n" + canonical_headers + "\n" +
                          sig.signed_headers + "\n" + sha256_hex(payload);
  std::string scope_text = date_stamp + "/" + scope.region + "/" + scope.service + "/aws4_request";
  sig.string_to_sign = "AWS4-HMAC-SHA256\n" + sig.amz_date + "\n" + scope_text + "\n" +
                       sha256_hex(sig.canonical_request);
  std::string key =
      derive_signing_key(credentials.secret_access_key, date_stamp, scope.region, scope.service);
  sig.signature = hex_encode(hmac_sha256(key, sig.string_to_sign));
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                      scope_text + ", SignedHeaders=" + sig.signed_headers +
                      ", Signature=" + sig.signature;
  return sig;
}

Status sign_request(HttpRequest& request, const Credentials& credentials, const SigningScope& scope,
                    SystemTime now) {
  auto url = parse_url(request.url);
  if (!url) return url.error();
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    return make_error(ErrorKind::Unauthenticated,
                      "AWS credentials have no access key id or secret");
  auto drop = [&request](std::string_view name) {
    auto& h = request.headers;
    h.erase(
        std::remove_if(h.begin(), h.end(),
                       [&](const auto& kv) { return ascii_lower(kv.first) == ascii_lower(name); }),
        h.end());
  };
  drop("authorization");
  drop("x-amz-date");
  drop("x-amz-security-token");
  if (find_header(request.headers, "host").empty())
    request.headers.emplace_back("Host", url->authority());
  request.headers.emplace_back("X-Amz-Date", amz_date(now));
  if (!credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  Signature sig = sign_parts(request.method, url->path, url->query, request.headers, request.body,
                             credentials, scope, now);
  request.headers.emplace_back("Authorization", sig.authorization);
  return {};
}

}  // namespace byok::kms::aws
