#include "reconcilers/imported_key/import_plan.h"

#include <algorithm>

#include "common/base64.h"
#include "hsm/encoding.h"
#include "reconcilers/imported_key/ik_failure.h"
#include "reconcilers/imported_key/wrap_choice.h"

namespace byok::importedkey {
namespace {

using Kind = ImportStep::Kind;
using kmsprovider::ProviderProblem;

ImportStep step(Kind kind) {
  ImportStep s;
  s.kind = kind;
  return s;
}

ImportStep fail(Failure f, std::optional<ExportRecord> audit = std::nullopt) {
  ImportStep s = step(Kind::Fail);
  s.failure = std::move(f);
  s.audit = std::move(audit);
  return s;
}

runtime::EventSpec event(const std::string& reason, const std::string& note) {
  return runtime::EventSpec{"Normal", reason, "Import", note};
}

// What the source gives the wrap once every check on it passed: the HSM key and the wrap it
// makes, or the material wrapped offline.
struct Source {
  std::optional<hsm::KeyRef> ref;
  WrapChoice choice;
  std::string offline;
};

// The checks on spec.source, before anything changes in the KMS: the next step while something
// is still to be looked at or refused, nullopt once `out` is complete.
std::optional<ImportStep> plan_source(const ImportObserved& o, hsm::KeyType type, Source& out) {
  const auto& spec = o.key.spec;
  const auto& algorithms = **o.algorithms;
  if (spec.hsm) {
    out.ref = spec.hsm->label.empty() ? hsm::KeyRef::id_hex(spec.hsm->id)
                                      : hsm::KeyRef::label(spec.hsm->label);
    const auto& ref = *out.ref;
    if (!o.hsm) return step(Kind::OpenHsm);
    if (!*o.hsm) {
      if (o.hsm->error().kind == ErrorKind::FailedPrecondition)
        return fail({reasons::kHsmNotConfigured, o.hsm->error().message, false});
      return fail(hsm_failure(o.hsm->error(), "opening the HSM"));
    }
    if (!o.hsm_key) {
      auto s = step(Kind::FindHsmKey);
      s.ref = ref;
      return s;
    }
    if (!*o.hsm_key)
      return fail(hsm_failure(o.hsm_key->error(), "spec.source.hsm: key with " + ref.describe()));
    // The grant again, now on the key actually found (its label and its id); the policy may
    // name the account the destination must be, asked of the KMS before anything is created
    // there (and again before the wrap).
    // It reads the Namespace anew: it gates writes in the admin's KMS (prepare_import may create
    // the key), not only what is read next.
    if (!o.grant) {
      auto s = step(Kind::Authorize);
      s.existing = o.found ? o.found->key_id : "";
      s.fresh_namespace = true;
      return s;
    }
    const auto& info = **o.hsm_key;
    if (!info.sensitive)
      return fail({reasons::kHsmCannotWrap,
                   "spec.source.hsm: the key with " + ref.describe() +
                       " is extractable but not sensitive (CKA_SENSITIVE false): its plaintext "
                       "could be read out of the HSM, so the operator does not export it; "
                       "generate it sensitive (byokctl generate does)",
                   false});
    if (!info.extractable)
      return fail({reasons::kHsmCannotWrap,
                   "spec.source.hsm: the key with " + ref.describe() +
                       " is not extractable (CKA_EXTRACTABLE false), so the HSM cannot wrap it for "
                       "any KMS: generate it extractable (byokctl generate does) and sensitive",
                   false});
    if (info.type != type)
      return fail(
          {reasons::kHsmKeyTypeMismatch,
           "spec.source.hsm names a key with " + ref.describe() + " of type " +
               (info.type ? std::string(hsm::key_type_name(*info.type)) : info.pkcs11_key_type) +
               ", but spec.keyType is " + spec.key_type + ": point source.hsm at a " +
               spec.key_type + " key",
           false});
    if (!o.capabilities) return step(Kind::ReadCapabilities);
    if (!*o.capabilities)
      return fail(hsm_failure(o.capabilities->error(), "reading the HSM's mechanisms"));
    auto chosen = choose_hsm_wrapping(o.provider, type, algorithms, **o.capabilities);
    if (!chosen) return fail({reasons::kHsmCannotWrap, chosen.error().message, false});
    out.choice = *chosen;
    return std::nullopt;
  }
  if (spec.wrapped_secret) {
    const auto& src = *spec.wrapped_secret;
    const auto& ns = o.key.meta.namespace_;
    auto alg = choose_offline_algorithm(o.provider, src.wrapping_algorithm, algorithms);
    if (!alg)
      return fail({alg.error().kind == ErrorKind::Unsupported ? reasons::kWrappedSourceUnsupported
                                                              : reasons::kWrappedSecretInvalid,
                   alg.error().message, false});
    out.choice.algorithm = *alg;
    if (!o.secret) {
      auto s = step(Kind::ReadSecret);
      s.secret = src.name;
      return s;
    }
    const auto& secret = *o.secret;
    if (!secret && secret.error().kind == ErrorKind::NotFound)
      return fail({reasons::kWrappedSecretNotFound,
                   "spec.source.wrappedSecretRef: Secret " + src.name +
                       " does not exist in namespace " + ns +
                       ": create it with the wrapped material under key " + src.key,
                   false});
    if (!secret && secret.error().kind == ErrorKind::PermissionDenied)
      return fail({reasons::kWrappedSecretNotFound,
                   "spec.source.wrappedSecretRef: the operator may not read Secret " + src.name +
                       " in namespace " + ns + " (" + secret.error().message +
                       "): grant its ServiceAccount get on secrets there",
                   false});
    if (!secret)
      return fail({reasons::kWrappedSecretNotFound,
                   "reading Secret " + src.name + ": " + secret.error().message, true});
    const auto& data = (*secret).value("data", nlohmann::json::object());
    if (!data.contains(src.key) || !data[src.key].is_string())
      return fail({reasons::kWrappedSecretInvalid,
                   "spec.source.wrappedSecretRef: Secret " + src.name + " has no key " + src.key +
                       ": put the wrapped material there, or set wrappedSecretRef.key",
                   false});
    auto bytes = base64_decode(data[src.key].get<std::string>());
    if (!bytes || bytes->empty())
      return fail(
          {reasons::kWrappedSecretInvalid,
           "spec.source.wrappedSecretRef: Secret " + src.name + " key " + src.key + " is empty",
           false});
    out.offline = std::move(*bytes);
    return std::nullopt;
  }
  return fail({reasons::kImportRefused,
               "spec.source sets neither hsm nor wrappedSecretRef: set one", false});
}

}  // namespace

ImportStep plan_import(const ImportObserved& o) {
  const auto& spec = o.key.spec;
  if (!o.algorithms) return step(Kind::ListAlgorithms);
  if (!*o.algorithms) {
    const auto& e = o.algorithms->error();
    if (e.kind == ErrorKind::Unsupported)
      return fail({reasons::kUnsupportedKeyType,
                   e.message + ": spec.keyType cannot be imported into this "
                               "provider; choose another provider or key type",
                   false});
    return fail(kms_failure(ProviderProblem::None, e, "wrapping algorithms"));
  }
  auto type = hsm::parse_key_type(spec.key_type);
  if (!type)
    return fail({reasons::kUnsupportedKeyType,
                 "spec.keyType " + spec.key_type + " is not one of " + hsm::key_type_names(),
                 false});

  Source source;
  if (auto next = plan_source(o, *type, source)) return *next;
  WrapChoice choice = source.choice;
  kms::ImportTarget target = o.target;
  target.wrapping_algorithm = choice.algorithm;
  std::string existing = o.found ? o.found->key_id : "";
  std::string policy = o.grant ? o.grant->policy : "";
  bool require_attestation = o.grant && o.grant->require_attestation;

  if (!o.begun) {
    const char* phase = o.rotate           ? phases::kRotating
                        : existing.empty() ? phases::kCreatingKey
                                           : phases::kImporting;
    std::string msg =
        o.rotate ? "importing new material for " + target.name + " as a new version"
        : existing.empty()
            ? "preparing the import of " + target.name + " (the KMS may create the key first)"
            : "importing into " + existing + ", which awaits its material";
    // No Event: it would only repeat the condition this status sets, which the pass's last
    // write replaces moments later; the import's Event (or the failure's) tells how it ended.
    auto s = step(Kind::Begin);
    s.status = status_in_progress(o.key, phase, msg, o.now);
    return s;
  }
  auto prepare = [&](std::optional<ExportRecord> audit) {
    auto s = step(Kind::Prepare);
    s.target = target;
    s.existing = existing;
    s.audit = std::move(audit);
    return s;
  };
  if (o.attempts.empty()) return prepare(std::nullopt);

  // The attempt that produced the material: its wrapping key, the bytes and, from the HSM, the
  // event of the wrap.
  const kms::WrappingKey* wrapping = nullptr;
  std::string wrapped, wrapped_fingerprint;
  std::optional<runtime::EventSpec> wrapped_event;
  for (size_t i = 0; i < o.attempts.size() && !wrapping; ++i) {
    const auto& a = o.attempts[i];
    if (!a.prepared)
      return fail(kms_failure(ProviderProblem::None, a.prepared.error(), "preparing the import"));
    const auto& w = *a.prepared;
    if (!w.key_id.empty()) existing = w.key_id;
    const auto* der = reinterpret_cast<const std::uint8_t*>(w.public_key_der.data());
    std::string fingerprint = hsm::spki_fingerprint_sha256({der, w.public_key_der.size()});
    if (!a.recorded) {
      auto st = status_in_progress(o.key, o.rotate ? phases::kRotating : phases::kImporting,
                                   "wrapping key " + fingerprint + " fetched (" + w.algorithm +
                                       "); wrapping and importing the material",
                                   o.now);
      if (!w.key_id.empty() && !st.imported) st.key_id = w.key_id;
      st.wrapping_key_fingerprint = fingerprint;
      st.wrapping_algorithm = w.algorithm;
      // No Event: the condition says it, and the audit's intent record names the wrapping key
      // before any wrap.
      auto s = step(Kind::RecordWrappingKey);
      s.status = std::move(st);
      return s;
    }

    if (!source.ref) {
      const auto& src = *spec.wrapped_secret;
      if (fingerprint != src.wrapping_key_fingerprint)
        return fail({reasons::kWrappingKeyMismatch,
                     "the material in Secret " + src.name + " was wrapped for wrapping key " +
                         src.wrapping_key_fingerprint + ", but the KMS's wrapping key is now " +
                         fingerprint + " (" + w.algorithm +
                         "): re-wrap it for that key with byokctl and recreate the ImportedKey "
                         "with the new fingerprint",
                     false});
      wrapping = &w;
      wrapped = source.offline;
      break;
    }
    // Every record of this attempt names the wrapping key, the KMS key and the grant so far.
    auto record = [&](const char* stage, const char* outcome, std::string message) {
      return ExportRecord{.stage = stage,
                          .action = o.action,
                          .outcome = outcome,
                          .wrapping_key_fingerprint = fingerprint,
                          .kms_key = existing,
                          .policy = policy,
                          .message = std::move(message)};
    };
    if (!o.pinned_fingerprints.empty() &&
        std::find(o.pinned_fingerprints.begin(), o.pinned_fingerprints.end(), fingerprint) ==
            o.pinned_fingerprints.end())
      return fail(
          {reasons::kWrappingKeyNotTrusted,
           "the KMS served wrapping key " + fingerprint + ", which " +
               spec.provider_ref.describe() +
               " does not list in spec.wrappingKeyFingerprints: nothing was wrapped; a "
               "cluster admin must check the KMS and update the pin",
           false},
          record("refused", "refused",
                 "the wrapping key is not among the ClusterKmsProvider's wrappingKeyFingerprints"));
    // Last look before C_WrapKey: the grant may have been revoked while the KMS answered.
    if (!a.grant) {
      auto s = step(Kind::Authorize);
      s.existing = existing;
      s.attempt = static_cast<int>(i);
      s.fresh_namespace = true;
      return s;
    }
    policy = a.grant->policy;
    require_attestation = a.grant->require_attestation;
    if (require_attestation && !w.attested) {
      std::string why = "HsmKeyPolicy " + policy +
                        " requires the KMS to attest its wrapping key, and " +
                        w.attestation_problem;
      return fail({reasons::kWrappingKeyNotTrusted, why + ": nothing was wrapped", false},
                  record("refused", "refused", why));
    }
    if (!a.wrapped) {
      auto s = step(Kind::Wrap);
      s.ref = *source.ref;
      s.spec = choice.spec;
      s.wrapping = w;
      s.audit = record("intent", "authorized",
                       "wrapping in the HSM (" + hsm::describe(choice.spec) + ") and sending");
      return s;
    }
    const auto& blob = *a.wrapped;
    if (blob) {
      wrapping = &w;
      wrapped.assign(blob->begin(), blob->end());
      wrapped_fingerprint = fingerprint;
      wrapped_event = event("MaterialWrapped", "key with " + source.ref->describe() +
                                                   " wrapped inside the HSM (" +
                                                   hsm::describe(choice.spec) + ")");
      break;
    }
    if (blob.error().kind == ErrorKind::InvalidArgument)
      // The HSM library refused the wrapping key itself (hsm/kek.h: e != 65537, odd size).
      return fail({reasons::kWrappingKeyNotTrusted,
                   "the KMS's wrapping key was refused: " + blob.error().message +
                       "; nothing was wrapped: check the provider's endpoint",
                   false},
                  record("outcome", "failed", blob.error().message));
    // The HSM learns on its first SHA-256 wrap whether it can do one; choose again once.
    if (i == 0 && blob.error().kind == ErrorKind::Unsupported &&
        choice.spec.hash == hsm::OaepHash::Sha256) {
      if (!a.capabilities) {
        auto s = step(Kind::ReadCapabilities);
        s.attempt = static_cast<int>(i);
        return s;
      }
      if (*a.capabilities && (*a.capabilities)->oaep_sha256 == false) {
        auto retried =
            record("outcome", "failed",
                   blob.error().message + " (trying again with a mechanism the HSM has)");
        auto chosen = choose_hsm_wrapping(o.provider, *type, **o.algorithms, **a.capabilities);
        if (!chosen) return fail({reasons::kHsmCannotWrap, chosen.error().message, false}, retried);
        choice = *chosen;
        target.wrapping_algorithm = choice.algorithm;
        if (i + 1 == o.attempts.size()) return prepare(retried);
        continue;
      }
    }
    return fail(hsm_failure(blob.error(),
                            "wrapping the key with " + source.ref->describe() + " in the HSM"),
                record("outcome", "failed", blob.error().message));
  }

  if (!o.imported) {
    auto s = step(Kind::Import);
    s.target = target;
    s.wrapping = *wrapping;
    s.wrapped = std::move(wrapped);
    s.import_kind = o.rotate ? kms::ImportKind::NewVersion : kms::ImportKind::First;
    s.event = std::move(wrapped_event);
    return s;
  }
  const auto& result = *o.imported;
  std::optional<ExportRecord> outcome;
  if (source.ref)
    outcome = ExportRecord{
        .stage = "outcome",
        .action = o.action,
        .outcome = result ? "succeeded" : "failed",
        .wrapping_key_fingerprint = wrapped_fingerprint,
        .kms_key =
            result ? (result->resource.empty() ? result->key_id : result->resource) : existing,
        .policy = policy,
        .message = result ? "" : result.error().message};
  if (!result) {
    if (o.rotate && result.error().kind == ErrorKind::Unsupported)
      return fail({reasons::kRotationUnsupported, result.error().message, false}, outcome);
    return fail(kms_failure(ProviderProblem::None, result.error(), "importing the key material"),
                outcome);
  }
  if (!o.state_after) {
    auto s = step(Kind::LookAfter);
    s.target = target;
    s.audit = std::move(outcome);
    return s;
  }
  auto st = status_imported(o.key, *result, *o.state_after, o.rotate, o.now);
  st.authorized_by = policy;
  auto s = step(Kind::Record);
  s.event =
      event(o.rotate ? "Rotated" : "Imported",
            (o.rotate ? "new key material imported into " : "key material imported into ") +
                st.key_id + (st.key_version.empty() ? "" : " (version " + st.key_version + ")"));
  s.status = std::move(st);
  return s;
}

}  // namespace byok::importedkey
