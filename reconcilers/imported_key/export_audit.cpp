#include "reconcilers/imported_key/export_audit.h"

namespace byok::importedkey {

void ExportAudit::record(const nlohmann::json& object, const std::string& destination_name,
                         const ExportRecord& r) {
  const auto& md = object.at("metadata");
  const std::string ns = md.value("namespace", ""), name = md.value("name", ""),
                    uid = md.value("uid", "");
  log_.log(r.outcome == "refused" || r.outcome == "failed" ? Logger::Level::Warn : Logger::Level::Info,
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

  const char* reason = r.stage == "deletion" ? (r.outcome == "intent" ? "KeyDeletionRequested"
                                                : r.outcome == "succeeded" ? "KeyDeletionDone"
                                                                           : "KeyDeletionFailed")
                       : r.stage == "refused" ? "ExportRefused"
                       : r.stage == "intent" ? "ExportAuthorized"
                       : r.outcome == "succeeded" ? "ExportCompleted" : "ExportFailed";
  const char* type = r.outcome == "refused" || r.outcome == "failed" ? "Warning" : "Normal";
  std::string note;
  if (r.stage == "deletion") {
    note = "deletion of " + r.kms_key + " in " + r.destination + ": " + r.outcome;
  } else {
    note = r.action + " of HSM key with " + r.hsm_key + " to " + r.destination + ": " + r.outcome;
    if (!r.policy.empty()) note += " (HsmKeyPolicy " + r.policy + ")";
    if (!r.wrapping_key_fingerprint.empty()) note += ", wrapping key " + r.wrapping_key_fingerprint;
  }
  if (!r.message.empty()) note += ": " + r.message;
  if (note.size() > 1000) note.resize(1000);
  // A deletion has the reconciler's own Event on the object (KeyDeletionScheduled); the audit
  // adds the log line and the admin's copy.
  if (r.stage != "deletion") events_.record(object, runtime::EventSpec{type, reason, "Export", note});
  if (!operator_namespace_.empty() && !destination_name.empty()) {
    // The admin's copy, regarding the ClusterKmsProvider, in the operator's namespace.
    nlohmann::json regarding = {
        {"apiVersion", "byok.dev/v1alpha1"},
        {"kind", "ClusterKmsProvider"},
        {"metadata", {{"name", destination_name}, {"namespace", operator_namespace_}}}};
    events_.record(regarding, runtime::EventSpec{type, reason, "Export",
                                                 "requested by ImportedKey " + ns + "/" + name +
                                                     " (uid " + uid + "): " + note});
  }
}

}  // namespace byok::importedkey
