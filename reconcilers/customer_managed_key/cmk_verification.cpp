#include "reconcilers/customer_managed_key/cmk_verification.h"

#include <cctype>

namespace byok::cmk {

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    long long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    switch (text[i++]) {
      case 's': total += n; break;
      case 'm': total += n * 60; break;
      case 'h': total += n * 3600; break;
      default: return std::nullopt;
    }
  }
  return std::chrono::seconds(total);
}

VerifyInterval verify_interval(const runtime::ObjectMeta& meta, std::chrono::seconds floor) {
  VerifyInterval out;
  auto it = meta.annotations.find(kVerifyIntervalAnnotation);
  if (it == meta.annotations.end() || !it->is_string()) return out;
  const std::string text = it->get<std::string>();
  auto d = parse_duration(text);
  if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::hours(24)) {
    out.problem = std::string("annotation ") + kVerifyIntervalAnnotation + " \"" + text +
                  "\" is not a duration from 1s to 24h (e.g. 90s, 5m, 1h): using 10m";
    return out;
  }
  out.every = *d;
  if (out.every < floor) {
    out.problem = std::string("annotation ") + kVerifyIntervalAnnotation + " \"" + text +
                  "\" is shorter than the operator's minimum of " + std::to_string(floor.count()) +
                  "s (--min-verify-interval): using " + std::to_string(floor.count()) + "s";
    out.every = floor;
  }
  return out;
}

std::optional<std::string> wrong_key_type(const std::string& provider,
                                          const kms::KeyDescription& key) {
  // Each provider's words for "this key can encrypt data keys", as its API reports them.
  if (provider == "aws" && !key.key_usage.empty() && key.key_usage != "ENCRYPT_DECRYPT")
    return "the key's KeyUsage is " + key.key_usage +
           "; a customer-managed key must be ENCRYPT_DECRYPT (a symmetric or RSA key)";
  if (provider == "gcp" && !key.key_usage.empty() && key.key_usage != "ENCRYPT_DECRYPT" &&
      key.key_usage != "ASYMMETRIC_DECRYPT")
    return "the CryptoKey's purpose is " + key.key_usage +
           "; a customer-managed key must be ENCRYPT_DECRYPT or ASYMMETRIC_DECRYPT";
  if (provider == "azure" && key.key_spec.rfind("EC", 0) == 0)
    return "the key's kty is " + key.key_spec +
           "; a customer-managed key must be RSA, RSA-HSM or oct-HSM (EC keys cannot wrap keys)";
  if (provider == "oci" && key.key_spec == "ECDSA")
    return "the key's algorithm is ECDSA; a customer-managed key must be AES or RSA";
  return std::nullopt;
}

}  // namespace byok::cmk
