#include "reconcilers/imported_key/ik_reconciler.h"

#include "common/failpoint.h"
#include "controller/kube/resource.h"
#include "controller/runtime/finalizer.h"
#include "controller/runtime/status_writer.h"
#include "reconcilers/imported_key/ik_failure.h"
#include "reconcilers/imported_key/import_plan.h"
#include "reconcilers/kms_provider/kms_failure.h"
#include "reconcilers/imported_key/imported_key_types.h"

namespace byok::importedkey {
namespace {

using kmsprovider::ProviderProblem;

}  // namespace

// One reconcile of one ImportedKey: the object as read, the resourceVersion its status writes
// are guarded by, and the steps.
class ImportedKeyReconciler::Pass {
 public:
  Pass(ImportedKeyReconciler& r, runtime::Json object, ImportedKey key)
      : r_(r),
        object_(std::move(object)),
        key_(std::move(key)),
        rv_(key_.meta.resource_version),
        namespace_(r.client_, kube::resources::namespaces(), "", key_.meta.namespace_),
        interval_(kmsprovider::verify_interval(key_.meta, r.min_verify_interval_).every) {}

  Result<runtime::ReconcileResult> run();

 private:
  // With the finalizer on a live object: the import, a rotation, or the periodic look.
  Result<runtime::ReconcileResult> apply();
  // On deletion: the deletionPolicy, before the finalizer goes.
  Result<runtime::Cleanup> finalize();
  Result<runtime::ReconcileResult> import(const kmsprovider::ProviderLookup& lookup,
                                          kms::ImportTarget target,
                                          const std::optional<kms::KeyDescription>& found,
                                          bool rotate);
  // The export as the spec asks for it (source.hsm only).
  hsmpolicy::ExportAsk export_ask() const {
    const auto& h = *key_.spec.hsm;
    return {key_.meta.namespace_, !h.label.empty(), h.label.empty() ? h.id : h.label,
            key_.spec.provider_ref};
  }
  std::string hsm_key_described() const {
    if (!key_.spec.hsm) return "none (material wrapped offline)";
    const auto& h = *key_.spec.hsm;
    return h.label.empty() ? "id " + h.id : "label \"" + h.label + "\"";
  }
  // Asks the authorizer; on a refusal, audits it and fails the reconcile with NotAuthorized.
  // `granted` receives the policy's name. `fresh`: read the Namespace anew (the check right
  // before the wrap), else share this pass's one read of it.
  std::optional<Result<runtime::ReconcileResult>> authorize(
      const std::string& action, const std::optional<hsmpolicy::FoundKey>& found,
      std::string& granted, bool fresh = false);
  // Records `r` with what this pass knows: the HSM key, the destination and, given the lookup,
  // the provider's type and the admin's copy regarding a ClusterKmsProvider.
  void audit(const kmsprovider::ProviderLookup* lookup, ExportRecord r) {
    r.hsm_key = hsm_key_described();
    r.destination = key_.spec.provider_ref.describe();
    if (lookup) r.provider_type = lookup->type;
    r_.audit_.record(object_, lookup && lookup->cluster ? key_.spec.provider_ref.name : "", r);
  }
  void audit(const kmsprovider::ProviderLookup& lookup, ExportRecord r) {
    audit(&lookup, std::move(r));
  }
  Status write(const ImportedKeyStatus& st);
  Result<runtime::ReconcileResult> fail(const Failure& f);
  Result<runtime::ReconcileResult> settle(const ImportedKeyStatus& st);
  void event(const char* type, const std::string& reason, const std::string& note) {
    r_.events_.record(object_, runtime::EventSpec{type, reason, "Import", note});
  }
  std::string now() const { return format_rfc3339(r_.clock_.now()); }
  runtime::ReconcileResult recheck() const { return runtime::requeue_after(interval_); }

  ImportedKeyReconciler& r_;
  runtime::Json object_;
  ImportedKey key_;
  std::string rv_;
  // The object's Namespace, read once for the checks of this pass that only gate what comes
  // next (the early grants, the ClusterKmsProvider's namespaceSelector).
  runtime::ReadOnce namespace_;
  std::chrono::seconds interval_;
  std::shared_ptr<hsm::Hsm> hsm_;
  std::string found_label_, found_id_;  // the HSM key found for source.hsm
  bool shared_provider_ = false;        // a ClusterKmsProvider: KMS answers are the admin's
  std::string granted_account_;         // the account the granting policy's destination requires
  bool require_attestation_ = false;    // the granting policy wants the wrapping key attested
  // What an export in this pass would be, for the audit trail.
  std::string action_name() const {
    return key_.status.imported && reimport_requested(key_) ? "reimport" : "import";
  }
  // Whether this pass may export HSM material: not for a key imported and up to date.
  bool may_import() const {
    return !key_.status.imported || reimport_requested(key_) ||
           key_.spec.rotate > key_.status.rotation;
  }
  bool may_export() const { return key_.spec.hsm && may_import(); }
  // The account the granting policy names, asked of the KMS; a refusal when it differs.
  std::optional<Result<runtime::ReconcileResult>> check_account(
      const kmsprovider::ProviderLookup& lookup, const std::string& action,
      const std::string& policy, const std::string& existing);
};

Status ImportedKeyReconciler::Pass::write(const ImportedKeyStatus& st) {
  auto written = runtime::apply_status(r_.client_, imported_keys(), key_.meta, rv_,
                                       imported_key_status_to_json(st));
  if (!written) return written.error();
  rv_ = *written;
  key_.status = st;
  return {};
}

// Writes the status if it changed, with the Event a changed Ready reason deserves.
Result<runtime::ReconcileResult> ImportedKeyReconciler::Pass::settle(const ImportedKeyStatus& st) {
  if (imported_key_status_to_json(st) != imported_key_status_to_json(key_.status)) {
    auto e = event_for(key_.status, st);
    if (auto w = write(st); !w) return w.error();
    if (e) r_.events_.record(object_, *e);
  }
  return recheck();
}

Result<runtime::ReconcileResult> ImportedKeyReconciler::Pass::fail(const Failure& f) {
  r_.log_.warn("import not done", {{"object", key_.meta.namespace_ + "/" + key_.meta.name},
                                   {"reason", f.reason},
                                   {"message", f.message}});
  Failure shown = f;
  if (shared_provider_ && is_kms_reason(f.reason))
    // The KMS answered the cluster admin's credentials: its words may name the admin's
    // principal, account or other tenants' keys. The tenant gets the reason; the admin has the
    // detail in the operator's log.
    shown.message = "the KMS behind " + key_.spec.provider_ref.describe() + " refused or failed (" +
                    f.reason +
                    "); the cluster admin finds the KMS's answer in the operator's log "
                    "(object " +
                    key_.meta.namespace_ + "/" + key_.meta.name + ")";
  auto settled = settle(status_failed(key_, shown, now()));
  if (!settled) return settled.error();
  // A lasting failure is looked at again less often the longer it lasts, never later than the
  // periodic check.
  return runtime::reported_failure(
      f.transient, f.message,
      std::min<std::chrono::seconds>(interval_,
                                     lasting_failure_delay(key_.status, r_.clock_.now())),
      f.retry_after);
}

std::optional<Result<runtime::ReconcileResult>> ImportedKeyReconciler::Pass::authorize(
    const std::string& action, const std::optional<hsmpolicy::FoundKey>& found,
    std::string& granted, bool fresh) {
  auto ask = export_ask();
  auto decision = r_.authorizer_.authorize(ask, found, fresh ? nullptr : &namespace_);
  if (decision) {
    granted = decision->policy;
    granted_account_ = decision->account;
    require_attestation_ = decision->require_attestation;
    return std::nullopt;
  }
  if (decision.error().kind != ErrorKind::PermissionDenied)
    return fail(
        {reasons::kHsmUnavailable, "checking HsmKeyPolicies: " + decision.error().message, true});
  // No copy regarding the provider: the tenant may not be allowed to use it at all.
  audit(nullptr, {.stage = "refused",
                  .action = action,
                  .outcome = "refused",
                  .message = decision.error().message});
  return fail({reasons::kNotAuthorized, decision.error().message, false});
}

std::optional<Result<runtime::ReconcileResult>> ImportedKeyReconciler::Pass::check_account(
    const kmsprovider::ProviderLookup& lookup, const std::string& action, const std::string& policy,
    const std::string& existing) {
  if (granted_account_.empty()) return std::nullopt;
  auto who = lookup.client->who_am_i();
  if (!who)
    return fail(kms_failure(ProviderProblem::None, who.error(),
                            "asking the KMS which account its credentials act in"));
  if (who->account == granted_account_) return std::nullopt;
  r_.log_.warn("destination account mismatch",
               {{"object", key_.meta.namespace_ + "/" + key_.meta.name},
                {"policy", policy},
                {"requiredAccount", granted_account_},
                {"kmsAccount", who->account},
                {"principal", who->principal}});
  std::string message = key_.spec.provider_ref.describe() +
                        " acts in another account than HsmKeyPolicy " + policy +
                        " allows for it: nothing was wrapped (the cluster admin finds both "
                        "accounts in the operator's log)";
  audit(lookup, {.stage = "refused",
                 .action = action,
                 .outcome = "refused",
                 .kms_key = existing,
                 .policy = policy,
                 .message = message});
  return fail({reasons::kNotAuthorized, message, false});
}

Result<runtime::ReconcileResult> ImportedKeyReconciler::Pass::run() {
  // Whatever comes back about a ClusterKmsProvider (its Secrets, its KMS) is the admin's.
  shared_provider_ = key_.spec.provider_ref.cluster();
  return runtime::with_finalizer(
      r_.client_, imported_keys(), key_.meta, kFinalizer, [this] { return apply(); },
      [this] { return finalize(); });
}

Result<runtime::ReconcileResult> ImportedKeyReconciler::Pass::apply() {
  const auto& meta = key_.meta;

  // A key from the HSM: the spec's request must be granted before anything is read from the
  // provider's KMS or the HSM. Nothing here depends on what the HSM holds.
  if (may_export()) {
    std::string granted;
    if (auto refused = authorize(action_name(), std::nullopt, granted)) return *refused;
  }
  auto lookup = r_.providers_.get(meta.namespace_, key_.spec.provider_ref, &namespace_);
  if (!lookup.client)
    return fail(kms_failure(lookup.problem, lookup.error, key_.spec.provider_ref.describe()));

  // Offline-wrapped material into the admin's KMS: only where the admin opted in, and before
  // the KMS is asked anything (first imports, re-imports and rotations alike).
  if (key_.spec.wrapped_secret && !lookup.allow_wrapped_imports && may_import())
    return fail({reasons::kNotAuthorized,
                 key_.spec.provider_ref.describe() +
                     " does not take material wrapped offline "
                     "(spec.source.wrappedSecretRef): a cluster admin must set its "
                     "spec.allowWrappedImports, or import through a KmsProvider of your own",
                 false});
  kms::ImportTarget target;
  target.name = kms_key_name(key_);
  target.key_type = key_.spec.key_type;
  target.description = key_.spec.description;
  target.allow_rotation = key_.spec.allow_rotation;
  target.owner = meta.uid;
  target.unnamed_key_possible = key_may_be_unnamed(key_.status);
  if (lookup.cluster) target.name = shared_kms_key_name(key_);
  if (!key_.spec.valid_to.empty()) {
    SystemTime t;
    if (!parse_rfc3339(key_.spec.valid_to, t))
      return fail({reasons::kImportRefused,
                   "spec.validTo \"" + key_.spec.valid_to +
                       "\" is not an RFC 3339 time, e.g. 2027-01-31T00:00:00Z",
                   false});
    target.valid_to = t;
  }

  // A type the provider cannot import is refused before the KMS is asked anything (AWS's
  // find_key may scan the account when no alias exists yet).
  if (!key_.status.imported)
    if (auto algorithms = lookup.client->wrapping_algorithms(key_.spec.key_type);
        !algorithms && algorithms.error().kind == ErrorKind::Unsupported)
      return fail({reasons::kUnsupportedKeyType,
                   algorithms.error().message + ": spec.keyType cannot be imported into this "
                                                "provider; choose another provider or key type",
                   false});
  // The provider's own rules (AWS: alias names, validTo within 365 days, rotation of symmetric
  // keys only), before anything is created or exported. Its words are the operator's, so the
  // tenant reads them even through an admin's ClusterKmsProvider.
  if (may_import())
    if (auto ok = lookup.client->check_target(target, r_.clock_.now()); !ok)
      return fail({reasons::kSpecNotImportable, ok.error().message, false});
  auto found = lookup.client->find_key(target);
  if (!found)
    return fail(kms_failure(ProviderProblem::None, found.error(), "looking up key " + target.name));

  switch (decide(key_, *found)) {
    case Step::Observe:
      return settle(status_observed(key_, **found, now()));
    case Step::KeyMissing:
      return fail({reasons::kKeyMissing,
                   "key " + key_.status.key_id +
                       " was imported, but the KMS no longer has it "
                       "(deleted outside the cluster?); the operator does not re-create it: delete "
                       "and recreate the ImportedKey to import the material again",
                   false});
    case Step::MaterialMissing:
      return fail({reasons::kKeyMaterialMissing,
                   "key " + key_.status.key_id + " is " + (*found)->state +
                       " in the KMS: its imported material was deleted there or expired "
                       "(spec.validTo). The operator does not put it back on its own; to import "
                       "it again, set the annotation " +
                       kReimportAnnotation + " to a new value (e.g. the date)",
                   false});
    case Step::RotationNotAllowed:
      return fail({reasons::kRotationNotAllowed,
                   "spec.rotate asks for new key material, but allowRotation is false and fixed at "
                   "create: the KMS key takes no new versions; delete and recreate the "
                   "ImportedKey with allowRotation: true to rotate",
                   false});
    case Step::Adopt:
    case Step::AdoptRotation: {
      auto st = status_adopted(key_, **found, now());
      if (auto w = write(st); !w) return w.error();
      const auto* imported = runtime::find_condition(st.conditions, conditions::kImported);
      event("Normal", "Adopted",
            imported ? imported->message : "import found completed in the KMS");
      return recheck();
    }
    case Step::Import:
      return import(lookup, std::move(target), *found, false);
    case Step::Rotate:
      return import(lookup, std::move(target), *found, true);
  }
  return recheck();
}

Result<runtime::ReconcileResult> ImportedKeyReconciler::Pass::import(
    const kmsprovider::ProviderLookup& lookup, kms::ImportTarget target,
    const std::optional<kms::KeyDescription>& found, bool rotate) {
  using Kind = ImportStep::Kind;
  kms::KmsProvider& kms = *lookup.client;
  ImportObserved o{.key = key_,
                   .provider = lookup.type,
                   .pinned_fingerprints = lookup.pinned_fingerprints,
                   .target = std::move(target),
                   .found = found,
                   .rotate = rotate,
                   .action = rotate ? "rotate" : action_name()};
  // The plan decides; this loop only performs its steps and tells it what came back.
  for (;;) {
    o.now = now();
    ImportStep s = plan_import(o);
    if (s.audit) audit(lookup, *s.audit);
    if (s.status)
      if (auto w = write(*s.status); !w) return w.error();
    if (s.event) r_.events_.record(object_, *s.event);
    switch (s.kind) {
      case Kind::ListAlgorithms:
        o.algorithms = kms.wrapping_algorithms(key_.spec.key_type);
        break;
      case Kind::OpenHsm: {
        auto h = r_.hsm_();
        if (h) hsm_ = *h;
        o.hsm = h ? Status() : Status(h.error());
        break;
      }
      case Kind::FindHsmKey:
        o.hsm_key = hsm_->find_key(s.ref);
        if (*o.hsm_key) {
          found_label_ = (*o.hsm_key)->label;
          found_id_ = (*o.hsm_key)->id_hex;
        }
        break;
      case Kind::Authorize: {
        std::string policy;
        if (auto refused = authorize(o.action, hsmpolicy::FoundKey{found_label_, found_id_}, policy,
                                     s.fresh_namespace))
          return *refused;
        if (auto refused = check_account(lookup, o.action, policy, s.existing)) return *refused;
        (s.attempt < 0 ? o.grant : o.attempts[s.attempt].grant) =
            ImportGrant{policy, require_attestation_};
        break;
      }
      case Kind::ReadCapabilities:
        (s.attempt < 0 ? o.capabilities : o.attempts[s.attempt].capabilities) =
            hsm_->capabilities();
        break;
      case Kind::ReadSecret:
        o.secret = r_.client_.get(kube::resources::secrets(), key_.meta.namespace_, s.secret);
        break;
      case Kind::Begin:
        o.begun = true;
        failpoint("importedkey.before-prepare");
        break;
      case Kind::Prepare: {
        auto prepared = kms.prepare_import(s.target, s.existing);
        if (prepared) failpoint("importedkey.after-prepare");
        o.attempts.push_back(ImportAttempt{std::move(prepared)});
        break;
      }
      case Kind::RecordWrappingKey:
        o.attempts.back().recorded = true;
        break;
      case Kind::Wrap: {
        const auto* der = reinterpret_cast<const std::uint8_t*>(s.wrapping.public_key_der.data());
        o.attempts.back().wrapped =
            hsm_->wrap_key(s.ref, s.spec, {der, s.wrapping.public_key_der.size()});
        break;
      }
      case Kind::Import:
        failpoint("importedkey.before-import");
        o.imported = kms.import_key(s.target, s.wrapping, s.wrapped, s.import_kind);
        break;
      case Kind::LookAfter: {
        failpoint("importedkey.after-import");
        // The state word after the import, for status.keyState; a failed look leaves it to the
        // next.
        auto after = kms.find_key(s.target);
        o.state_after = after && *after ? (*after)->state : "";
        break;
      }
      case Kind::Record:
        r_.log_.info(rotate ? "rotated" : "imported",
                     {{"object", key_.meta.namespace_ + "/" + key_.meta.name},
                      {"key", key_.status.key_id},
                      {"version", key_.status.key_version},
                      {"wrappingAlgorithm", key_.status.wrapping_algorithm}});
        return recheck();
      case Kind::Fail:
        return fail(s.failure);
    }
  }
}

Result<runtime::Cleanup> ImportedKeyReconciler::Pass::finalize() {
  const auto& meta = key_.meta;
  // Something may exist in the KMS once an import got as far as its first step.
  bool touched_kms =
      key_.status.imported || !key_.status.phase.empty() || !key_.status.key_id.empty();
  std::string name = kms_key_name(key_);
  if (key_.spec.deletion_policy == "Delete" && touched_kms) {
    auto lookup = r_.providers_.get(meta.namespace_, key_.spec.provider_ref);
    if (!lookup.client) {
      auto f = kms_failure(lookup.problem, lookup.error, key_.spec.provider_ref.describe());
      return runtime::cleanup_pending(fail(
          {reasons::kDeletionFailed, "deletionPolicy Delete cannot reach the KMS: " + f.message,
           f.transient, f.retry_after}));
    }
    if (lookup.cluster) name = shared_kms_key_name(key_);
    kms::ImportTarget target;
    target.name = name;
    target.key_type = key_.spec.key_type;
    target.allow_rotation = key_.spec.allow_rotation;
    target.owner = meta.uid;
    target.unnamed_key_possible = key_may_be_unnamed(key_.status);
    auto found = lookup.client->find_key(target);
    // The name is another owner's key now: nothing of this object's is there to delete.
    if (!found && found.error().kind == ErrorKind::AlreadyExists)
      found = std::optional<kms::KeyDescription>();
    if (!found) {
      auto f = kms_failure(ProviderProblem::None, found.error(), "looking up key " + name);
      return runtime::cleanup_pending(
          fail({reasons::kDeletionFailed, f.message, f.transient, f.retry_after}));
    }
    if (*found && (*found)->status != kms::CmkStatus::Deleted) {
      audit(lookup, {.stage = "deletion",
                     .action = "delete",
                     .outcome = "intent",
                     .kms_key = (*found)->key_id,
                     .message = "deletionPolicy Delete: scheduling the key's deletion"});
      failpoint("importedkey.before-delete");
      auto scheduled =
          lookup.client->schedule_key_deletion((*found)->key_id, key_.spec.deletion_window_days);
      audit(lookup, {.stage = "deletion",
                     .action = "delete",
                     .outcome = scheduled ? "succeeded" : "failed",
                     .kms_key = (*found)->key_id,
                     .message = scheduled ? "" : scheduled.error().message});
      if (!scheduled) {
        auto f = kms_failure(ProviderProblem::None, scheduled.error(),
                             "scheduling the deletion of " + name);
        return runtime::cleanup_pending(
            fail({reasons::kDeletionFailed, f.message, f.transient, f.retry_after}));
      }
      event("Normal", "KeyDeletionScheduled",
            "deletionPolicy Delete: the KMS " +
                std::string(scheduled->deletion_date ? "destroys key " + (*found)->key_id + " at " +
                                                           format_rfc3339(*scheduled->deletion_date)
                                                     : "deleted key " + (*found)->key_id) +
                (scheduled->state.empty() ? "" : " (state " + scheduled->state + ")"));
    }
  } else if (touched_kms) {
    event("Normal", "KeyRetained",
          "deletionPolicy Retain: key " + (key_.status.key_id.empty() ? name : key_.status.key_id) +
              " stays in the KMS");
  }
  return runtime::Cleanup::finished(rv_);
}

ImportedKeyReconciler::ImportedKeyReconciler(kube::KubeClient& client, const runtime::Store& store,
                                             kmsprovider::ProviderRegistry& providers,
                                             HsmAccess hsm, hsmpolicy::ExportAuthorizer& authorizer,
                                             ExportAudit& audit, runtime::EventRecorder& events,
                                             const Clock& clock, Logger& log)
    : client_(client),
      store_(store),
      providers_(providers),
      hsm_(std::move(hsm)),
      authorizer_(authorizer),
      audit_(audit),
      events_(events),
      clock_(clock),
      log_(log) {}

runtime::ReconcileResult ImportedKeyReconciler::reconcile(const std::string& key) {
  auto object = store_.get(key);
  if (!object) return runtime::done();  // deleted; nothing holds it any more
  auto parsed = parse_imported_key(*object);
  if (!parsed) return runtime::result_for(parsed.error());
  Pass pass(*this, std::move(*object), std::move(*parsed));
  auto result = pass.run();
  if (!result) return runtime::result_for(result.error());
  return *result;
}

}  // namespace byok::importedkey
