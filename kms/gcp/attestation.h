#pragma once
// Google Cloud KMS ImportJob attestations (ImportJob.attestation, protection level HSM): proof,
// signed inside the HSM and chained to the HSM manufacturer's and Google's roots, that the
// ImportJob's wrapping key was generated in and never leaves a Cloud HSM.
//
// Format CAVIUM_V2_COMPRESSED, as Google's published verification scripts read it: `content` is
// gzip; its last 256 bytes are an RSA PKCS#1 v1.5 SHA-256 signature over everything before them,
// made with the HSM partition's key. Before the signature: a 16-byte response header (code,
// flags, total size, buffer size; big-endian), then object handles, then the attribute buffer
// (starting at total - (buffer size + 256)): an 8-byte info header (version, flags, offset of
// the first object, offset of the second) and, per object, handle, attribute count and size,
// then (type, length, value) records. 0x0120 is the modulus, 0x0122 the public exponent.
//
// verify_import_job_attestation accepts only when:
//   - certChains.caviumCerts (partition, card) links, certificate by certificate (issuer name and
//     signature), to one of the MANUFACTURER roots, and googlePartitionCerts and googleCardCerts
//     each link to one of the OWNER (Google) roots: the manufacturer's and Google's statements
//     about the same card and partition (the same keys). Two separate root sets, so one
//     authority's chain can never stand in for the other's;
//   - the partition key verifies the signature;
//   - an attested public key object holds exactly the ImportJob's wrapping key (modulus and
//     exponent of `wrapping_key_der`).
// Otherwise an error that says which step failed. Content is bounded (kMaxAttestationBytes,
// before and after decompression).

#include <string>
#include <vector>

#include "common/result.h"

namespace byok::kms::gcp {

inline constexpr std::size_t kMaxAttestationBytes = 256 * 1024;

struct ImportJobAttestation {
  std::string format;                               // "CAVIUM_V2_COMPRESSED"
  std::string content;                              // the bytes (base64-decoded)
  std::vector<std::string> cavium_certs;            // PEM, leaf (partition) first
  std::vector<std::string> google_card_certs;       // PEM
  std::vector<std::string> google_partition_certs;  // PEM
};

Status verify_import_job_attestation(const ImportJobAttestation& attestation,
                                     const std::string& wrapping_key_der,
                                     const std::string& manufacturer_roots_pem,
                                     const std::string& owner_roots_pem);

}  // namespace byok::kms::gcp
