#include "kms/gcp/service_account.h"

#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.h"

namespace byok::kms::gcp {
namespace {

using Json = nlohmann::json;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<Pkey> load_rsa_private_key(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error(ErrorKind::Internal, "BIO_new_mem_buf failed");
  // An empty passphrase callback: Google's keys are not encrypted, and OpenSSL must not prompt.
  Pkey key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!key) return make_error(ErrorKind::InvalidArgument, "private_key is not a PEM private key");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
    return make_error(ErrorKind::InvalidArgument, "private_key is not an RSA key");
  return key;
}

}  // namespace

Result<ServiceAccountKey> parse_service_account_key(std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception&) {
    return make_error(ErrorKind::InvalidArgument, "not a JSON service-account key");
  }
  if (!j.is_object()) return make_error(ErrorKind::InvalidArgument, "not a JSON object");
  auto field = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto type = field("type"); type != "service_account")
    return make_error(ErrorKind::InvalidArgument,
                      "type is \"" + type + "\", not \"service_account\"");
  ServiceAccountKey key{field("project_id"),   field("private_key_id"), field("private_key"),
                        field("client_email"), field("client_id"),      field("token_uri")};
  if (key.client_email.empty())
    return make_error(ErrorKind::InvalidArgument, "client_email is missing");
  if (key.private_key_pem.empty())
    return make_error(ErrorKind::InvalidArgument, "private_key is missing");
  if (key.token_uri.empty()) key.token_uri = kDefaultTokenUri;
  if (auto pkey = load_rsa_private_key(key.private_key_pem); !pkey) return pkey.error();
  return key;
}

Result<std::string> rs256_sign(std::string_view private_key_pem, std::string_view data) {
  auto key = load_rsa_private_key(private_key_pem);
  if (!key) return key.error();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    return make_error(ErrorKind::Internal, "RS256: EVP_DigestSign setup failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return make_error(ErrorKind::Internal, "RS256: EVP_DigestSign failed");
  sig.resize(len);
  return sig;
}

Result<std::string> make_jwt_assertion(const ServiceAccountKey& key, std::string_view scope,
                                       SystemTime now, std::chrono::seconds lifetime) {
  const long long iat =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  Json claims = {{"iss", key.client_email},
                 {"sub", key.client_email},
                 {"scope", std::string(scope)},
                 {"aud", key.token_uri},
                 {"iat", iat},
                 {"exp", iat + lifetime.count()}};
  std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  auto sig = rs256_sign(key.private_key_pem, signing_input);
  if (!sig) return sig.error().context("service-account JWT");
  return signing_input + "." + base64url_encode(*sig);
}

}  // namespace byok::kms::gcp
