#include "kms/gcp/gcp_kms_client.h"

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "common/text.h"
#include "common/uuid.h"
#include "kms/gcp/gcp_errors.h"
#include "kms/gcp/gcp_traits.h"
#include "kms/paging.h"
#include "kms/rest_call.h"

namespace byok::kms::gcp {
namespace {

using Json = nlohmann::json;

std::optional<SystemTime> time_field(const Json& j, const char* field) {
  auto text = str(j, field);
  SystemTime t;
  if (!text.empty() && parse_rfc3339(text, t)) return t;
  return std::nullopt;
}

CryptoKeyVersion version_from_json(const Json& j) {
  CryptoKeyVersion v;
  v.name = str(j, "name");
  v.state = str(j, "state");
  v.algorithm = str(j, "algorithm");
  v.protection_level = str(j, "protectionLevel");
  v.import_job = str(j, "importJob");
  v.import_failure_reason = str(j, "importFailureReason");
  v.create_time = time_field(j, "createTime");
  v.destroy_time = time_field(j, "destroyTime");
  v.import_time = time_field(j, "importTime");
  return v;
}

CryptoKey key_from_json(const Json& j) {
  CryptoKey k;
  k.name = str(j, "name");
  k.purpose = str(j, "purpose");
  if (auto t = j.find("versionTemplate"); t != j.end() && t->is_object()) {
    k.algorithm = str(*t, "algorithm");
    k.protection_level = str(*t, "protectionLevel");
  }
  k.destroy_scheduled_duration = str(j, "destroyScheduledDuration");
  if (auto it = j.find("importOnly"); it != j.end() && it->is_boolean()) k.import_only = *it;
  if (auto it = j.find("labels"); it != j.end() && it->is_object())
    for (const auto& [name, value] : it->items())
      if (value.is_string()) k.labels[name] = value.get<std::string>();
  if (auto it = j.find("primary"); it != j.end() && it->is_object() && !str(*it, "name").empty())
    k.primary = version_from_json(*it);
  k.create_time = time_field(j, "createTime");
  return k;
}

ImportJob job_from_json(const Json& j) {
  ImportJob job;
  job.name = str(j, "name");
  job.import_method = str(j, "importMethod");
  job.protection_level = str(j, "protectionLevel");
  job.state = str(j, "state");
  if (auto it = j.find("publicKey"); it != j.end() && it->is_object())
    job.public_key_pem = str(*it, "pem");
  job.expire_time = time_field(j, "expireTime");
  if (auto it = j.find("attestation"); it != j.end() && it->is_object()) {
    ImportJobAttestation a;
    a.format = str(*it, "format");
    auto content = base64_decode(str(*it, "content"));
    if (content) a.content = std::move(*content);
    auto pems = [](const Json& chains, const char* field) {
      std::vector<std::string> out;
      if (auto c = chains.find(field); c != chains.end() && c->is_array())
        for (const auto& p : *c)
          if (p.is_string()) out.push_back(p.get<std::string>());
      return out;
    };
    if (auto c = it->find("certChains"); c != it->end() && c->is_object()) {
      a.cavium_certs = pems(*c, "caviumCerts");
      a.google_card_certs = pems(*c, "googleCardCerts");
      a.google_partition_certs = pems(*c, "googlePartitionCerts");
    }
    job.attestation = std::move(a);
  }
  return job;
}

Result<Json> parse_object(const std::string& what, const std::string& body) {
  try {
    auto j = Json::parse(body);
    if (j.is_object()) return j;
  } catch (const Json::exception&) {
  }
  return make_error(ErrorKind::Internal, what + ": answer is not a JSON object");
}

// A version's id as a number, for "the latest version"; 0 when it is not one.
unsigned long long version_number(const CryptoKeyVersion& v) {
  auto id = v.id();
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (id.empty() || id.size() > 18 || !std::all_of(id.begin(), id.end(), digit)) return 0;
  return std::stoull(id);
}

// "<prefix>-<UTC yyyymmddhhmmss>-<8 random hex>", at most 63 characters: ImportJob ids are
// unique in a key ring forever (ImportJobs cannot be deleted).
std::string import_job_id(const std::string& key_name, SystemTime now) {
  std::string suffix = "-" + format_utc(now, "%Y%m%d%H%M%S") + "-" + random_uuid().substr(0, 8);
  return key_name.substr(0, 63 - suffix.size()) + suffix;
}

}  // namespace

std::string CryptoKeyVersion::id() const {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

bool is_crypto_key_name(const std::string& name) {
  static const char* const fixed[] = {"projects", "locations", "keyRings", "cryptoKeys"};
  size_t at = 0;
  for (int i = 0; i < 8; ++i) {
    size_t slash = name.find('/', at);
    bool last = i == 7;
    if (last != (slash == std::string::npos)) return false;
    std::string part = name.substr(at, last ? std::string::npos : slash - at);
    if (part.empty() || (i % 2 == 0 && part != fixed[i / 2])) return false;
    at = slash + 1;
  }
  return true;
}

GcpKmsClient::GcpKmsClient(GcpKmsConfig config, HttpTransport& transport, const Clock& clock,
                           RetryEnvironment env)
    : config_(std::move(config)), transport_(transport), clock_(clock), env_(std::move(env)) {
  endpoint_ = config_.endpoint.empty() ? kDefaultEndpoint : config_.endpoint;
  while (endpoint_.size() > 8 && endpoint_.back() == '/') endpoint_.pop_back();
  tokens_ = std::make_unique<ServiceAccountTokenSource>(config_.key, kCloudKmsScope, transport_,
                                                        clock_, config_.retry, env_);
}

Result<std::unique_ptr<GcpKmsClient>> GcpKmsClient::from_config(const ProviderConfig& config,
                                                                HttpTransport& transport,
                                                                const Clock& clock,
                                                                RetryEnvironment env) {
  auto invalid = [](const std::string& m) { return make_error(ErrorKind::InvalidArgument, m); };
  if (!config.type.empty() && config.type != "gcp")
    return invalid("provider type is \"" + config.type + "\", not gcp");
  GcpKmsConfig c;
  auto setting = [&](const char* name) {
    auto it = config.settings.find(name);
    return it == config.settings.end() ? std::string() : it->second;
  };
  c.project = setting("project");
  c.location = setting("location");
  c.key_ring = setting("keyRing");
  if (c.project.empty()) return invalid("spec.gcp.project is empty");
  if (c.location.empty()) return invalid("spec.gcp.location is empty");
  if (c.key_ring.empty()) return invalid("spec.gcp.keyRing is empty");
  for (const auto* v : {&c.project, &c.location, &c.key_ring})
    if (v->find('/') != std::string::npos)
      return invalid("spec.gcp settings must be plain ids, got \"" + *v + "\"");
  auto cred = config.credentials.find("serviceAccountKey");
  if (cred == config.credentials.end() || cred->second.empty())
    return invalid("credentials Secret key serviceAccountKey is missing");
  auto key = parse_service_account_key(cred->second);
  if (!key)
    return invalid("credentials Secret key serviceAccountKey is not a service-account JSON key: " +
                   key.error().message);
  c.key = std::move(*key);
  c.endpoint = config.endpoint;
  c.attestation_manufacturer_roots_pem = config.attestation_manufacturer_roots_pem;
  c.attestation_owner_roots_pem = config.attestation_owner_roots_pem;
  return std::make_unique<GcpKmsClient>(std::move(c), transport, clock, std::move(env));
}

std::string GcpKmsClient::key_ring_name() const {
  return "projects/" + config_.project + "/locations/" + config_.location + "/keyRings/" +
         config_.key_ring;
}

Result<std::string> GcpKmsClient::call(const std::string& rpc, const std::string& method,
                                       const std::string& path_and_query, const std::string& body,
                                       bool idempotent) {
  CallOptions options;
  options.idempotent = idempotent;
  options.build = [&]() -> Result<HttpRequest> {
    auto token = tokens_->access_token();
    if (!token) return token.error();
    HttpRequest req;
    req.method = method;
    req.url = endpoint_ + "/v1/" + path_and_query;
    req.headers = {{"Authorization", "Bearer " + *token}};
    if (method != "GET") {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body.empty() ? "{}" : body;
    }
    return req;
  };
  // A revoked or expired token: a fresh one, once.
  options.renew_credentials = [&] { tokens_->invalidate(); };
  auto answer =
      send_call(transport_, "GCP " + rpc, options, config_.retry, env_, read_google_error);
  if (!answer) return answer.error();
  return std::move(answer->body);
}

Result<Json> GcpKmsClient::call_json(const std::string& rpc, const std::string& method,
                                     const std::string& path_and_query, const std::string& body,
                                     bool idempotent) {
  auto answer = call(rpc, method, path_and_query, body, idempotent);
  if (!answer) return answer.error();
  return parse_object("GCP " + rpc, *answer);
}

Result<CryptoKey> GcpKmsClient::get_crypto_key(const std::string& name) {
  auto j = call_json("GetCryptoKey", "GET", name, "", true);
  if (!j) return j.error();
  return key_from_json(*j);
}

Result<std::vector<CryptoKeyVersion>> GcpKmsClient::list_crypto_key_versions(
    const std::string& key_name) {
  std::vector<CryptoKeyVersion> out;
  std::string page_token;
  PageGuard guard("GCP ListCryptoKeyVersions", "nextPageToken");
  for (;;) {
    std::string path = key_name + "/cryptoKeyVersions?pageSize=100";
    if (!page_token.empty()) path += "&pageToken=" + percent_encode(page_token);
    auto j = call_json("ListCryptoKeyVersions", "GET", path, "", true);
    if (!j) return j.error();
    // Empty repeated fields are left out of Google's JSON: no cryptoKeyVersions, no versions.
    const auto& page = array_field(*j, "cryptoKeyVersions");
    for (const auto& v : page) out.push_back(version_from_json(v));
    page_token = str(*j, "nextPageToken");
    auto more = guard.more(page.size(), page_token);
    if (!more) return more.error();
    if (!*more) return out;
  }
}

Result<CryptoKeyVersion> GcpKmsClient::get_crypto_key_version(const std::string& name) {
  auto j = call_json("GetCryptoKeyVersion", "GET", name, "", true);
  if (!j) return j.error();
  return version_from_json(*j);
}

Result<CryptoKey> GcpKmsClient::create_crypto_key(const CreateCryptoKeyRequest& request) {
  if (!valid_resource_id(request.crypto_key_id))
    return make_error(ErrorKind::InvalidArgument, "GCP CreateCryptoKey: cryptoKeyId \"" +
                                                      request.crypto_key_id +
                                                      "\" must match [a-zA-Z0-9_-]{1,63}");
  Json key = {{"purpose", request.purpose},
              {"versionTemplate",
               {{"algorithm", request.algorithm},
                {"protectionLevel", request.protection_level.empty() ? config_.protection_level
                                                                     : request.protection_level}}}};
  if (request.import_only) key["importOnly"] = true;
  if (!request.labels.empty()) key["labels"] = request.labels;
  std::string path = key_ring_name() + "/cryptoKeys?cryptoKeyId=" + request.crypto_key_id;
  if (request.skip_initial_version_creation) path += "&skipInitialVersionCreation=true";
  auto j = call_json("CreateCryptoKey", "POST", path, key.dump(), false);
  if (!j) return j.error();
  return key_from_json(*j);
}

Result<ImportJob> GcpKmsClient::create_import_job(const std::string& import_job_id,
                                                  const std::string& import_method,
                                                  const std::string& protection_level) {
  Json job = {{"importMethod", import_method}, {"protectionLevel", protection_level}};
  auto j =
      call_json("CreateImportJob", "POST",
                key_ring_name() + "/importJobs?importJobId=" + import_job_id, job.dump(), false);
  if (!j) return j.error();
  return job_from_json(*j);
}

Result<ImportJob> GcpKmsClient::get_import_job(const std::string& name) {
  auto j = call_json("GetImportJob", "GET", name, "", true);
  if (!j) return j.error();
  return job_from_json(*j);
}

Result<CryptoKeyVersion> GcpKmsClient::import_crypto_key_version(const std::string& key_name,
                                                                 const std::string& algorithm,
                                                                 const std::string& import_job,
                                                                 const std::string& wrapped_key) {
  Json req = {{"algorithm", algorithm},
              {"importJob", import_job},
              {"wrappedKey", base64_encode(wrapped_key)}};
  auto j = call_json("ImportCryptoKeyVersion", "POST", key_name + "/cryptoKeyVersions:import",
                     req.dump(), false);
  if (!j) return j.error();
  return version_from_json(*j);
}

Result<CryptoKeyVersion> GcpKmsClient::destroy_crypto_key_version(const std::string& name) {
  auto j = call_json("DestroyCryptoKeyVersion", "POST", name + ":destroy", "{}", false);
  if (!j) return j.error();
  return version_from_json(*j);
}

Result<CryptoKeyVersion> GcpKmsClient::restore_crypto_key_version(const std::string& name) {
  auto j = call_json("RestoreCryptoKeyVersion", "POST", name + ":restore", "{}", false);
  if (!j) return j.error();
  return version_from_json(*j);
}

Result<CryptoKey> GcpKmsClient::update_primary_version(const std::string& key_name,
                                                       const std::string& version_id) {
  auto j = call_json("UpdateCryptoKeyPrimaryVersion", "POST", key_name + ":updatePrimaryVersion",
                     Json{{"cryptoKeyVersionId", version_id}}.dump(), false);
  if (!j) return j.error();
  return key_from_json(*j);
}

Result<std::optional<CryptoKeyVersion>> GcpKmsClient::current_version(const CryptoKey& key) {
  if (key.primary) return std::optional<CryptoKeyVersion>(*key.primary);
  auto versions = list_crypto_key_versions(key.name);
  if (!versions) return versions.error();
  std::optional<CryptoKeyVersion> latest;
  for (auto& v : *versions)
    if (!latest || version_number(v) > version_number(*latest)) latest = std::move(v);
  return latest;
}

Result<KeyDescription> GcpKmsClient::describe(const CryptoKey& key) {
  auto version = current_version(key);
  if (!version) return version.error();
  KeyDescription d;
  d.key_id = key.name;
  d.resource = key.name;
  d.name = key.name.substr(key.name.rfind('/') + 1);
  d.key_usage = key.purpose;
  d.key_spec = key.algorithm;
  d.origin = key.protection_level;
  d.imported = key.import_only;
  d.created = key.create_time;
  if (!*version) {
    // No version, no material: like AWS's PendingImport, recoverable by importing.
    d.status = CmkStatus::Old;
    return d;
  }
  const auto& v = **version;
  d.version = v.name;
  d.state = v.state;
  d.status = gcp_cmk_status(v.state);
  d.holds_material = !v.state.empty() && v.state != "PENDING_IMPORT" && v.state != "IMPORT_FAILED";
  if (!v.algorithm.empty()) d.key_spec = v.algorithm;
  if (!v.protection_level.empty()) d.origin = v.protection_level;
  d.enabled = v.state == "ENABLED";
  d.imported = d.imported || !v.import_job.empty();
  if (v.state == "DESTROY_SCHEDULED") d.deletion_date = v.destroy_time;
  return d;
}

Result<KeyDescription> GcpKmsClient::describe_key(const std::string& key_id) {
  if (!is_crypto_key_name(key_id))
    return make_error(ErrorKind::InvalidArgument,
                      "GCP GetCryptoKey: \"" + key_id +
                          "\" is not a CryptoKey name "
                          "(projects/*/locations/*/keyRings/*/cryptoKeys/*)");
  auto key = get_crypto_key(key_id);
  if (!key) return key.error();
  return describe(*key);
}

Result<DeletionSchedule> GcpKmsClient::schedule_key_deletion(const std::string& key_id,
                                                             int /*pending_window_days*/) {
  if (!is_crypto_key_name(key_id))
    return make_error(ErrorKind::InvalidArgument,
                      "GCP DestroyCryptoKeyVersion: \"" + key_id + "\" is not a CryptoKey name");
  auto versions = list_crypto_key_versions(key_id);
  if (!versions) return versions.error();
  DeletionSchedule out;
  out.key_id = key_id;
  // Look first: versions already DESTROY_SCHEDULED (an earlier, interrupted call) are left as
  // they are, so calling again finishes the job instead of failing on them.
  for (auto& v : *versions) {
    if (v.state == "ENABLED" || v.state == "DISABLED") {
      auto destroyed = destroy_crypto_key_version(v.name);
      if (!destroyed) return destroyed.error();
      v = std::move(*destroyed);
    }
    if (v.state == "DESTROY_SCHEDULED") {
      out.state = v.state;
      if (v.destroy_time && (!out.deletion_date || *v.destroy_time > *out.deletion_date))
        out.deletion_date = v.destroy_time;
    }
  }
  if (out.state.empty() && !versions->empty()) {
    // Nothing left to schedule: report the current version's state (DESTROYED, ...).
    auto it = std::max_element(
        versions->begin(), versions->end(),
        [](const auto& a, const auto& b) { return version_number(a) < version_number(b); });
    out.state = it->state;
  }
  return out;
}

Status GcpKmsClient::cancel_key_deletion(const std::string& key_id) {
  if (!is_crypto_key_name(key_id))
    return make_error(ErrorKind::InvalidArgument,
                      "GCP RestoreCryptoKeyVersion: \"" + key_id + "\" is not a CryptoKey name");
  auto versions = list_crypto_key_versions(key_id);
  if (!versions) return versions.error();
  bool restored = false;
  for (const auto& v : *versions) {
    if (v.state != "DESTROY_SCHEDULED") continue;
    auto r = restore_crypto_key_version(v.name);
    if (!r) return r.error();
    restored = true;
  }
  if (!restored) {
    auto key = get_crypto_key(key_id);
    if (!key) return key.error();
    auto current = current_version(*key);
    if (!current) return current.error();
    if (*current &&
        ((*current)->state == "DESTROYED" || (*current)->state == "PENDING_EXTERNAL_DESTRUCTION" ||
         (*current)->state == "EXTERNAL_DESTRUCTION_FAILED"))
      return make_error(ErrorKind::FailedPrecondition,
                        "GCP RestoreCryptoKeyVersion: " + (*current)->name + " is " +
                            (*current)->state +
                            ": past its destroyScheduledDuration, it cannot "
                            "be restored");
  }
  return {};
}

Result<Accessor> GcpKmsClient::who_am_i() {
  auto token = tokens_->access_token();
  if (!token) return token.error();
  const auto& key = tokens_->key();
  // The account is the project whose key ring receives the keys (spec.gcp.project), not the
  // service account's own project_id, which the credentials file merely states.
  return Accessor{key.client_email, config_.project, key.client_id};
}

Result<std::vector<std::string>> GcpKmsClient::wrapping_algorithms(const std::string& key_type) {
  return gcp_wrapping_algorithms(key_type);
}

Result<std::optional<KeyDescription>> GcpKmsClient::find_key(const ImportTarget& target) {
  if (!valid_resource_id(target.name))
    return make_error(ErrorKind::InvalidArgument,
                      "GCP: the CryptoKey id \"" + target.name +
                          "\" must match [a-zA-Z0-9_-]{1,63} (spec.kmsKeyName)");
  auto key = get_crypto_key(key_ring_name() + "/cryptoKeys/" + target.name);
  if (!key) {
    if (key.error().kind == ErrorKind::NotFound) return std::optional<KeyDescription>();
    return key.error();
  }
  if (!target.owner.empty()) {
    auto want = owner_label_value(target.owner);
    auto it = key->labels.find(kOwnerLabel);
    std::string have = it == key->labels.end() ? "" : it->second;
    if (have != want)
      return make_error(ErrorKind::AlreadyExists,
                        "GCP: CryptoKey " + key->name + " exists but is not this key's: its " +
                            kOwnerLabel + " label is \"" + have + "\", not \"" + want +
                            "\" (CryptoKeys cannot be deleted; choose another kmsKeyName)");
  }
  auto d = describe(*key);
  if (!d) return d.error();
  return std::optional<KeyDescription>(std::move(*d));
}

Result<ImportJob> GcpKmsClient::wait_until_active(ImportJob job) {
  for (int poll = 0; job.state == "PENDING_GENERATION"; ++poll) {
    if (poll >= config_.poll.max_polls)
      return make_error(ErrorKind::Unavailable, "GCP GetImportJob: " + job.name +
                                                    " still PENDING_GENERATION after " +
                                                    std::to_string(poll) + " polls");
    env_.sleep(config_.poll.interval);
    if (waiting_stopped())  // shutting down: the next reconcile looks again
      return make_error(ErrorKind::Unavailable, "GCP: " + job.name +
                                                    " still PENDING_GENERATION; not polled "
                                                    "further, the operator is stopping");
    auto next = get_import_job(job.name);
    if (!next) return next.error();
    job = std::move(*next);
  }
  if (job.state != "ACTIVE")
    return make_error(ErrorKind::FailedPrecondition,
                      "GCP GetImportJob: " + job.name + " is " + job.state + ", not ACTIVE");
  return job;
}

Result<WrappingKey> GcpKmsClient::prepare_import(const ImportTarget& target,
                                                 const std::string& existing_key_id) {
  auto spec = gcp_import_spec(target.key_type);
  if (!spec) return spec.error();
  auto methods = gcp_wrapping_algorithms(target.key_type);
  if (!methods) return methods.error();
  std::string method =
      target.wrapping_algorithm.empty() ? methods->front() : target.wrapping_algorithm;
  if (std::find(methods->begin(), methods->end(), method) == methods->end()) {
    std::string list;
    for (const auto& m : *methods) list += (list.empty() ? "" : ", ") + m;
    return make_error(ErrorKind::InvalidArgument, "GCP: importMethod " + method + " cannot carry " +
                                                      target.key_type + " keys; use one of " +
                                                      list);
  }
  std::string key_name = existing_key_id;
  std::string protection_level;
  if (key_name.empty()) {
    if (!valid_resource_id(target.name))
      return make_error(ErrorKind::InvalidArgument,
                        "GCP: the CryptoKey id \"" + target.name +
                            "\" must match [a-zA-Z0-9_-]{1,63} (spec.kmsKeyName)");
    CreateCryptoKeyRequest req;
    req.crypto_key_id = target.name;
    req.purpose = spec->purpose;
    req.algorithm = spec->algorithm;
    req.import_only = true;
    req.skip_initial_version_creation = true;
    if (!target.owner.empty()) req.labels[kOwnerLabel] = owner_label_value(target.owner);
    auto key = create_crypto_key(req);
    if (!key) return key.error();
    key_name = key->name;
    protection_level = key->protection_level;
  } else {
    if (!is_crypto_key_name(key_name))
      return make_error(ErrorKind::InvalidArgument,
                        "GCP: \"" + key_name + "\" is not a CryptoKey name");
    // The ImportJob must match the key's protection level, whatever the config says today.
    auto key = get_crypto_key(key_name);
    if (!key) return key.error();
    if (key->purpose != spec->purpose)
      return make_error(ErrorKind::AlreadyExists, "GCP: CryptoKey " + key_name + " has purpose " +
                                                      key->purpose + ", a " + target.key_type +
                                                      " key needs " + spec->purpose);
    protection_level = key->protection_level;
  }
  if (protection_level.empty()) protection_level = config_.protection_level;
  auto job = create_import_job(import_job_id(target.name, clock_.now()), method, protection_level);
  if (!job) return job.error();
  auto active = wait_until_active(std::move(*job));
  if (!active) return active.error();
  auto der = public_key_der_from_pem(active->public_key_pem);
  if (!der) return der.error().context("GCP GetImportJob: " + active->name);
  const int want_bits = method.find("_4096_") != std::string::npos ? 4096 : 3072;
  if (der->rsa_bits != want_bits)
    return make_error(ErrorKind::Internal, "GCP GetImportJob: " + active->name + ": the " + method +
                                               " wrapping key is not a " +
                                               std::to_string(want_bits) + "-bit RSA key");
  WrappingKey w;
  w.key_id = key_name;
  w.public_key_der = std::move(der->der);
  w.algorithm = active->import_method.empty() ? method : active->import_method;
  w.import_token = active->name;
  w.expires = active->expire_time;
  if (!active->attestation) {
    w.attestation_problem = "ImportJob " + active->name + " (protection level " +
                            active->protection_level + ") carries no attestation";
  } else if (config_.attestation_manufacturer_roots_pem.empty() ||
             config_.attestation_owner_roots_pem.empty()) {
    w.attestation_problem =
        "the operator has no roots to check ImportJob attestations against "
        "(--gcp-attestation-manufacturer-roots, --gcp-attestation-owner-roots)";
  } else if (auto checked = verify_import_job_attestation(
                 *active->attestation, w.public_key_der, config_.attestation_manufacturer_roots_pem,
                 config_.attestation_owner_roots_pem);
             !checked) {
    w.attestation_problem = checked.error().message;
  } else {
    w.attested = true;
    w.attestation_problem.clear();
  }
  return w;
}

Result<CryptoKeyVersion> GcpKmsClient::wait_until_imported(CryptoKeyVersion version) {
  for (int poll = 0; version.state == "PENDING_IMPORT"; ++poll) {
    if (poll >= config_.poll.max_polls)
      return make_error(ErrorKind::Unavailable, "GCP GetCryptoKeyVersion: " + version.name +
                                                    " still PENDING_IMPORT after " +
                                                    std::to_string(poll) + " polls");
    env_.sleep(config_.poll.interval);
    if (waiting_stopped())  // shutting down: the next reconcile looks again
      return make_error(ErrorKind::Unavailable, "GCP: " + version.name +
                                                    " still PENDING_IMPORT; not polled "
                                                    "further, the operator is stopping");
    auto next = get_crypto_key_version(version.name);
    if (!next) return next.error();
    version = std::move(*next);
  }
  if (version.state == "IMPORT_FAILED")
    return make_error(ErrorKind::InvalidArgument,
                      "GCP ImportCryptoKeyVersion: " + version.name + " is IMPORT_FAILED: " +
                          (version.import_failure_reason.empty() ? "no reason given"
                                                                 : version.import_failure_reason));
  return version;
}

Result<ImportResult> GcpKmsClient::import_key(const ImportTarget& target,
                                              const WrappingKey& wrapping,
                                              const std::string& wrapped, ImportKind kind) {
  auto spec = gcp_import_spec(target.key_type);
  if (!spec) return spec.error();
  if (kind == ImportKind::NewVersion && !target.allow_rotation)
    return make_error(
        ErrorKind::FailedPrecondition,
        "GCP ImportCryptoKeyVersion: a new version of " + target.name + " needs allowRotation");
  if (!is_crypto_key_name(wrapping.key_id) || wrapping.import_token.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "GCP ImportCryptoKeyVersion: the wrapping key names no CryptoKey or "
                      "ImportJob (call prepare_import first)");
  auto version =
      import_crypto_key_version(wrapping.key_id, spec->algorithm, wrapping.import_token, wrapped);
  if (!version) return version.error();
  auto imported = wait_until_imported(std::move(*version));
  if (!imported) return imported.error();
  if (spec->has_primary()) {
    auto key = update_primary_version(wrapping.key_id, imported->id());
    if (!key) return key.error();
  }
  return ImportResult{wrapping.key_id, wrapping.key_id, imported->name};
}

}  // namespace byok::kms::gcp
