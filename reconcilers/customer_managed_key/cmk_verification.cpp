#include "reconcilers/customer_managed_key/cmk_verification.h"

#include <cctype>

namespace byok::cmk {

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
