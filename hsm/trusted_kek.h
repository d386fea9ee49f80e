#pragma once
// The security officer's ceremony that makes the token itself enforce where keys may go.
//
// A key generated with CKA_WRAP_WITH_TRUSTED (GenerateRequest::wrap_with_trusted, byokctl
// generate --wrap-with-trusted) can be wrapped only under a wrapping key whose CKA_TRUSTED is
// true, and only the token's security officer (SO) can set CKA_TRUSTED. install_trusted_kek logs
// in as SO with a PIN read from a file (never the command line, and never the operator's: the
// operator holds only the user PIN), stores the KMS's wrapping key on the token as a trusted
// public key (CKA_TOKEN, CKA_TRUSTED, CKA_WRAP), and logs out. Pkcs11Hsm::wrap_key then uses
// that object for the KEK; any other KEK is refused by the token for such keys, even if the
// operator's own checks were bypassed.

#include <span>
#include <string>

#include "common/result.h"
#include "hsm/config.h"

namespace byok::hsm {

struct TrustedKek {
  std::string label;
  std::string fingerprint_sha256;
  unsigned bits = 0;
};

// `config` names the module and token (its PIN fields are not used). FailedPrecondition when an
// object with `label` exists; Unauthenticated when the SO PIN is refused; the KEK is checked by
// parse_kek (RSA-2048/3072/4096, e = 65537).
Result<TrustedKek> install_trusted_kek(const HsmConfig& config, const std::string& so_pin_file,
                                       std::span<const std::uint8_t> kek, const std::string& label);

}  // namespace byok::hsm
