#include "reconcilers/imported_key/export_audit.h"

namespace byok::importedkey {

void ExportAudit::record(const nlohmann::json& object, const std::string& destination_name,
                         const ExportRecord& r) {
  const auto& md = object.at("metadata");
  const std::string ns = md.value("namespace", ""), name = md.value("name", ""),
                    uid = md.value("uid", "");
  log_.log(
      r.outcome == "refused" || r.outcome == "failed" ? Logger::Level::Warn : Logger::Level::Info,
      "hsm export " + r.stage,
      {{"log", "audit"},
       {"stage", r.stage},
       {"action", r.action},
       {"outcome", r.outcome},
       {"requester", ns + "/" + name},
       {"requesterUID", uid},
       {"hsmKey", r.hsm_key},
       {"wrappingKeyFingerprint", r.wrapping_key_fingerprint},
       {"destination", r.destination},
       {"providerType", r.provider_type},
       {"kmsKey", r.kms_key},
       {"policy", r.policy},
       {"message", r.message}});

  const char* reason = r.stage == "deletion"      ? (r.outcome == "intent"      ? "KeyDeletionRequested"
                                                     : r.outcome == "succeeded" ? "KeyDeletionDone"
                                                                                : "KeyDeletionFailed")
                       : r.stage == "refused"     ? "ExportRefused"
                       : r.stage == "intent"      ? "ExportAuthorized"
                       : r.outcome == "succeeded" ? "ExportCompleted"
                                                  : "ExportFailed";
  const char* type = r.outcome == "refused" || r.outcome == "failed" ? "Warning" : "Normal";
  std::string note;
  if (r.stage == "deletion") {
    note = "deletion of " + r.kms_key + " in " + r.destination + ": " + r.outcome;
  } else {
    note = r.action + " of HSM key with " + r.hsm_key + " to " + r.destination + ": " + r.outcome;
    if (!r.policy.empty()) note += " (HsmKeyPolicy " + r.policy + ")";
    if (!r.wrapping_key_fingerprint.empty()) note += ", wrapping key " + r.wrapping_key_fingerprint;
  }
  std::string detailed = r.message.empty() ? note : note + ": " + r.message;
  if (detailed.size() > 1000) detailed.resize(1000);
  // The tenant's Event: for the admin's ClusterKmsProvider without the message, which may carry
  // the KMS's answer to the admin's credentials (principal, account, other keys); the admin's
  // copy and the log line have it. The tenant's condition says what the tenant can act on.
  std::string tenant_note = destination_name.empty()
                                ? detailed
                                : note +
                                      " (details in the operator's log and the cluster "
                                      "admin's Event)";
  // A deletion has the reconciler's own Event on the object (KeyDeletionScheduled); the audit
  // adds the log line and the admin's copy.
  if (r.stage != "deletion")
    events_.record(object, runtime::EventSpec{type, reason, "Export", tenant_note});
  if (!operator_namespace_.empty() && !destination_name.empty()) {
    // The admin's copy, regarding the ClusterKmsProvider, in the operator's namespace.
    nlohmann::json regarding = {
        {"apiVersion", "byok.dev/v1alpha1"},
        {"kind", "ClusterKmsProvider"},
        {"metadata", {{"name", destination_name}, {"namespace", operator_namespace_}}}};
    events_.record(regarding, runtime::EventSpec{type, reason, "Export",
                                                 "requested by ImportedKey " + ns + "/" + name +
                                                     " (uid " + uid + "): " + detailed});
  }
}

}  // namespace byok::importedkey
