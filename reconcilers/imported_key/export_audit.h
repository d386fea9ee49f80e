#pragma once
// The audit trail of HSM exports: one record when an export is refused, one before every wrap
// (intent) and one after the KMS answered (outcome), for first imports, rotations, re-imports
// and resumes alike; and an intent and an outcome for every deletion the operator asks of a
// KMS (stage "deletion"). Each record is
//   - a JSON line on the audit logger (main gives it its own stream; every line carries
//     "log":"audit"), which is what to ship to a SIEM: tenants cannot touch it;
//   - an Event on the ImportedKey (the tenant sees what happened to its key);
//   - a copy of that Event in the operator's namespace, regarding the ClusterKmsProvider, since
//     tenants may delete the Events of their own namespace.
// Records name the HSM key by label or id (never material), the wrapping key's fingerprint, the
// destination, the requester (namespace, name, UID) and the policy that allowed it. Values are
// escaped by the JSON logger.

#include <string>

#include "common/log.h"
#include "controller/runtime/events.h"

namespace byok::importedkey {

// Filled with designated initializers; audit() in the reconciler adds the key and destination.
struct ExportRecord {
  std::string stage{};    // "refused" | "intent" | "outcome" | "deletion"
  std::string action{};   // "import" | "rotate" | "reimport" | "delete"
  std::string outcome{};  // "refused" | "authorized" | "intent" | "succeeded" | "failed"
  std::string hsm_key{};  // e.g. label "team-a-db"
  std::string wrapping_key_fingerprint{};
  std::string destination{};  // "ClusterKmsProvider aws-prod"
  std::string provider_type{};
  std::string kms_key{};  // the key in the KMS, when known
  std::string policy{};   // the HsmKeyPolicy that allowed it
  std::string message{};
};

class ExportAudit {
 public:
  // `operator_namespace` empty: no copy of the Event there.
  ExportAudit(Logger& audit_log, runtime::EventRecorder& events, std::string operator_namespace)
      : log_(audit_log), events_(events), operator_namespace_(std::move(operator_namespace)) {}

  // `object` is the ImportedKey; `destination_name` the ClusterKmsProvider's name (may be empty).
  void record(const nlohmann::json& object, const std::string& destination_name,
              const ExportRecord& r);

 private:
  Logger& log_;
  runtime::EventRecorder& events_;
  std::string operator_namespace_;
};

}  // namespace byok::importedkey
