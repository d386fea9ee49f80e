#include "kms/gcp/attestation.h"

#include <cstdint>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/compression.h"

namespace byok::kms::gcp {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Error refused(const std::string& why) {
  return Error{ErrorKind::FailedPrecondition, "ImportJob attestation not verified: " + why};
}

std::vector<X509Ptr> read_pems(const std::string& pem) {
  std::vector<X509Ptr> out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  return out;
}

std::vector<X509Ptr> read_all(const std::vector<std::string>& pems) {
  std::vector<X509Ptr> out;
  for (const auto& p : pems)
    for (auto& x : read_pems(p)) out.push_back(std::move(x));
  return out;
}

bool same_key(EVP_PKEY* a, EVP_PKEY* b) { return a && b && EVP_PKEY_eq(a, b) == 1; }

// `chain` (leaf first) links to one of `roots`: each certificate is issued (name and signature)
// by the next, the last by a root. Checked link by link: the manufacturer's certificates are
// X.509 v1, which a CA-path validator refuses.
bool links_to_root(const std::vector<X509*>& chain, const std::vector<X509Ptr>& roots) {
  if (chain.empty()) return false;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (X509_NAME_cmp(X509_get_issuer_name(chain[i]), X509_get_subject_name(chain[i + 1])) != 0)
      return false;
    if (X509_verify(chain[i], X509_get0_pubkey(chain[i + 1])) != 1) return false;
  }
  X509* top = chain.back();
  for (const auto& root : roots) {
    if (X509_NAME_cmp(X509_get_issuer_name(top), X509_get_subject_name(root.get())) == 0 &&
        X509_verify(top, X509_get0_pubkey(root.get())) == 1)
      return true;
  }
  return false;
}

Result<std::string> gunzip(const std::string& in) {
  if (in.size() > kMaxAttestationBytes)
    return refused("content larger than " + std::to_string(kMaxAttestationBytes) + " bytes");
  auto out = inflate_capped(in, Deflated::Gzip, kMaxAttestationBytes);
  if (!out)
    return refused("content is not gzip of at most " + std::to_string(kMaxAttestationBytes) +
                   " bytes");
  return std::move(*out);
}

std::uint32_t be32(const std::string& s, size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) |
         (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}
std::uint16_t be16(const std::string& s, size_t at) {
  return static_cast<std::uint16_t>((std::uint8_t(s[at]) << 8) | std::uint8_t(s[at + 1]));
}

std::string strip_zeros(std::string v) {
  size_t i = 0;
  while (i + 1 < v.size() && v[i] == '\0') ++i;
  return v.substr(i);
}

// The attested objects' modulus and exponent (0x0120, 0x0122), each object's pair.
Result<std::vector<std::pair<std::string, std::string>>> attested_keys(const std::string& body) {
  if (body.size() < 16) return refused("content shorter than its header");
  const std::uint32_t total = be32(body, 8), buffer = be32(body, 12);
  if (total != body.size() + 256 || buffer > body.size() || body.size() - buffer < 16)
    return refused("header sizes do not match the content");
  const size_t start = body.size() - buffer;  // total - (buffer + 256)
  const std::string buf = body.substr(start);
  if (buf.size() < 8) return refused("attribute buffer too short");
  std::vector<std::pair<std::string, std::string>> keys;
  for (size_t which = 0; which < 2; ++which) {
    const size_t offset = be16(buf, 4 + which * 2);
    if (offset == 0) continue;
    if (offset + 12 > buf.size()) return refused("object offset outside the buffer");
    const std::uint32_t count = be32(buf, offset + 4), size = be32(buf, offset + 8);
    size_t at = offset + 12;
    if (size > buf.size() - at) return refused("object size outside the buffer");
    const size_t end = at + size;
    std::string modulus, exponent;
    for (std::uint32_t n = 0; n < count; ++n) {
      if (at + 8 > end) return refused("attribute outside its object");
      const std::uint32_t type = be32(buf, at), len = be32(buf, at + 4);
      at += 8;
      if (len > end - at) return refused("attribute value outside its object");
      if (type == 0x0120) modulus = buf.substr(at, len);
      if (type == 0x0122) exponent = buf.substr(at, len);
      at += len;
    }
    if (!modulus.empty() && !exponent.empty())
      keys.emplace_back(strip_zeros(modulus), strip_zeros(exponent));
  }
  return keys;
}

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &raw)) return "";
  std::string out(static_cast<size_t>(BN_num_bytes(raw)), '\0');
  BN_bn2bin(raw, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(raw);
  return out;
}

}  // namespace

Status verify_import_job_attestation(const ImportJobAttestation& a,
                                     const std::string& wrapping_key_der,
                                     const std::string& manufacturer_roots_pem,
                                     const std::string& owner_roots_pem) {
  if (a.format != "CAVIUM_V2_COMPRESSED")
    return refused("format \"" + a.format + "\" is not CAVIUM_V2_COMPRESSED");
  auto manufacturer_roots = read_pems(manufacturer_roots_pem),
       owner_roots = read_pems(owner_roots_pem);
  if (manufacturer_roots.empty() || owner_roots.empty())
    return refused("the manufacturer's and the owner's attestation roots are not both configured");
  auto cavium = read_all(a.cavium_certs), card = read_all(a.google_card_certs),
       partition = read_all(a.google_partition_certs);
  if (cavium.size() < 2 || card.empty() || partition.empty())
    return refused(
        "certChains lacks caviumCerts (partition and card), googleCardCerts or "
        "googlePartitionCerts");
  auto raw = [](const std::vector<X509Ptr>& v) {
    std::vector<X509*> out;
    for (const auto& c : v) out.push_back(c.get());
    return out;
  };
  // The manufacturer's chain: partition <- card <- root; Google's own certificates for the same
  // card and partition each chain to a root of their own.
  if (!links_to_root(raw(cavium), manufacturer_roots))
    return refused("caviumCerts do not chain to a configured manufacturer root");
  if (!links_to_root(raw(partition), owner_roots))
    return refused("googlePartitionCerts do not chain to a configured owner root");
  if (!links_to_root(raw(card), owner_roots))
    return refused("googleCardCerts do not chain to a configured owner root");
  EVP_PKEY* partition_key = X509_get0_pubkey(cavium[0].get());
  if (!same_key(partition_key, X509_get0_pubkey(partition[0].get())) ||
      !same_key(X509_get0_pubkey(cavium[1].get()), X509_get0_pubkey(card[0].get())))
    return refused(
        "the manufacturer's and Google's certificates name different card or partition keys");

  auto body = gunzip(a.content);
  if (!body) return body.error();
  if (body->size() <= 256) return refused("content shorter than its signature");
  const std::string signed_part = body->substr(0, body->size() - 256),
                    signature = body->substr(body->size() - 256);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, partition_key) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) != 1)
    return refused("the partition key's signature over the content does not verify");

  auto keys = attested_keys(signed_part);
  if (!keys) return keys.error();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(wrapping_key_der.data());
  PkeyPtr wrapping(d2i_PUBKEY(nullptr, &p, static_cast<long>(wrapping_key_der.size())));
  if (!wrapping) return refused("the ImportJob's public key is not readable");
  const std::string n = bn_param(wrapping.get(), OSSL_PKEY_PARAM_RSA_N),
                    e = bn_param(wrapping.get(), OSSL_PKEY_PARAM_RSA_E);
  for (const auto& [mod, exp] : *keys)
    if (mod == n && exp == e) return {};
  return refused("no attested key is the ImportJob's wrapping key");
}

}  // namespace byok::kms::gcp
