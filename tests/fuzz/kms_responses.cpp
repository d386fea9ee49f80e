// Every KMS client's handling of what a KMS answers (a tenant's endpoint may be hostile): any
// status, headers and body, over every call the reconcilers make. A crash, a sanitizer report,
// an exception escaping the client or a hang is a finding.
#include <fuzzer/FuzzedDataProvider.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "kms/provider_factory.h"
#include "tests/fuzz/fuzz_support.h"

using namespace byok;

namespace {

std::string private_key_pem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

struct Provider {
  kms::ProviderConfig config;
  std::string key_id;  // what a CustomerManagedKey names
};

const std::vector<Provider>& providers() {
  static const std::vector<Provider> all = [] {
    std::string pem = private_key_pem();
    std::vector<Provider> v(6);
    v[0].config.type = "aws";
    v[0].config.region = "eu-west-1";
    v[0].config.credentials = {{"accessKeyId", "AKID"}, {"secretAccessKey", "secret"}};
    v[0].key_id = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    v[1].config.type = "gcp";
    v[1].config.settings = {
        {"project", "proj-1"}, {"location", "europe-west1"}, {"keyRing", "ring"}};
    v[1].config.credentials = {
        {"serviceAccountKey",
         nlohmann::json{{"type", "service_account"},
                        {"project_id", "proj-1"},
                        {"private_key_id", "kid-1"},
                        {"private_key", pem},
                        {"client_email", "byok@proj-1.iam.gserviceaccount.com"},
                        {"token_uri", "https://oauth2.googleapis.com/token"}}
             .dump()}};
    v[1].key_id = "projects/proj-1/locations/europe-west1/keyRings/ring/cryptoKeys/k";
    v[2].config.type = "azure";
    v[2].config.settings = {{"vaultUrl", "https://contoso.vault.azure.net"}};
    v[2].config.credentials = {{"tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
                               {"clientId", "c"},
                               {"clientSecret", "s"}};
    v[2].key_id = "https://contoso.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef";
    v[3].config.type = "oci";
    v[3].config.region = "us-ashburn-1";
    v[3].config.settings = {
        {"compartmentId", "ocid1.compartment.oc1..aaaa"},
        {"vaultId", "ocid1.vault.oc1.iad.bbp123.vault"},
        {"managementEndpoint", "https://bbp123-management.kms.us-ashburn-1.oraclecloud.com"}};
    v[3].config.credentials = {{"tenancy", "ocid1.tenancy.oc1..aaaa"},
                               {"user", "ocid1.user.oc1..aaaa"},
                               {"fingerprint", "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"},
                               {"privateKey", pem}};
    v[3].key_id = "ocid1.key.oc1.iad.bbp123.abcdef";
    v[4].config.type = "transit";
    v[4].config.endpoint = "https://127.0.0.1:8200";
    v[4].config.credentials = {{"token", "hvs.x"}};
    v[4].key_id = "k";
    v[5].config.type = "thalassa";
    v[5].config.endpoint = "https://127.0.0.1:8443";
    v[5].config.region = "nl-01";
    v[5].config.settings = {{"organisation", "org"}};
    v[5].config.credentials = {{"token", "t"}};
    v[5].key_id = "k";
    return v;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const Provider& p = providers()[in.ConsumeIntegralInRange<size_t>(0, providers().size() - 1)];
  int call = in.ConsumeIntegralInRange(0, 7);
  fuzz::AdvancingClock clock;
  auto handle = kms::make_provider(p.config, std::make_unique<fuzz::PlayedTransport>(in), clock,
                                   fuzz::no_wait(clock));
  if (!handle) __builtin_trap();  // the configs above are valid: a refusal is a bug here
  kms::KmsProvider& kms = *handle->client;
  kms::ImportTarget target;
  target.name = "team-a-key";
  target.key_type = in.PickValueInArray({"aes256-gcm96", "rsa-3072", "ecdsa-p256", "ed25519"});
  target.owner = "8d0c4b8e-0a4f-4f55-9d4c-2c1b0f9d7a11";
  auto algorithms = kms.wrapping_algorithms(target.key_type);
  if (algorithms && !algorithms->empty()) target.wrapping_algorithm = algorithms->front();
  switch (call) {
    case 0:
      (void)kms.describe_key(p.key_id);
      break;
    case 1:
      (void)kms.schedule_key_deletion(p.key_id, 7);
      break;
    case 2:
      (void)kms.cancel_key_deletion(p.key_id);
      break;
    case 3:
      (void)kms.who_am_i();
      break;
    case 4:
      (void)kms.find_key(target);
      break;
    case 5:
      (void)kms.prepare_import(target, "");
      break;
    case 6:
      (void)kms.prepare_import(target, p.key_id);
      break;
    case 7: {
      kms::WrappingKey wrapping;
      wrapping.key_id = p.key_id;
      wrapping.algorithm = target.wrapping_algorithm;
      wrapping.import_token = "token";
      (void)kms.import_key(target, wrapping, std::string(512, 'w'),
                           in.ConsumeBool() ? kms::ImportKind::First : kms::ImportKind::NewVersion);
      break;
    }
  }
  return 0;
}
