#pragma once
// The import of one ImportedKey's material (first import, re-import or rotation), decided with
// no I/O: plan_import() reads what the executor has observed so far and names the one next step,
// so every refusal, its message and its audit record is table-tested without a cluster, a KMS or
// an HSM. The executor (ImportedKeyReconciler's Pass::import) performs the step, records what it
// saw in ImportObserved and asks again, until a step ends the pass (Record or Fail).
//
// The order is the one the reconciler's header promises: everything about the source (the
// provider's algorithms, the HSM key, the grant, the Secret) is checked before anything changes
// in the KMS; then the progress is written (Begin), the KMS prepares the import (Prepare), the
// wrapping key is recorded, checked (pin, grant, account, attestation) and used (Wrap), and the
// material is imported once (Import). An HSM that learns on its first SHA-256 wrap that it has
// none gets one more attempt with a mechanism it has; nothing else is tried twice.
//
// Asking for a grant (Authorize) is the executor's, through the same helpers run() uses before
// the KMS is touched: they read the cluster, audit a refusal and end the pass themselves; the
// plan only says when to ask and reads the grant back.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/runtime/events.h"
#include "hsm/hsm.h"
#include "kms/kms_provider.h"
#include "reconcilers/imported_key/export_audit.h"
#include "reconcilers/imported_key/ik_plan.h"
#include "reconcilers/imported_key/imported_key_types.h"

namespace byok::importedkey {

// What a grant said: the HsmKeyPolicy that allowed the export, and whether it wants the KMS's
// wrapping key attested.
struct ImportGrant {
  std::string policy;
  bool require_attestation = false;
};

// One round of prepare -> record -> authorize -> wrap. A second round follows only when the
// HSM turned out to lack OAEP SHA-256.
struct ImportAttempt {
  Result<kms::WrappingKey> prepared;   // the KMS's answer that began the attempt
  bool recorded = false;               // the wrapping key's fingerprint is in the status
  std::optional<ImportGrant> grant{};  // asked again (with the account) right before the wrap
  std::optional<Result<std::vector<std::uint8_t>>> wrapped{};
  std::optional<Result<hsm::Capabilities>> capabilities{};  // asked again after an Unsupported wrap
};

// What the executor has seen so far; each field is empty until its step ran.
struct ImportObserved {
  const ImportedKey& key;                          // as the status writes so far left it
  std::string provider{};                          // the provider's type ("aws", "transit", ...)
  std::vector<std::string> pinned_fingerprints{};  // a ClusterKmsProvider's wrappingKeyFingerprints
  kms::ImportTarget target{};  // name, type, owner, validTo; the plan sets the wrapping algorithm
  std::optional<kms::KeyDescription> found{};  // what find_key returned before the import
  bool rotate = false;
  std::string action{};  // for the audit trail: "import" | "reimport" | "rotate"
  std::string now{};     // RFC 3339, for the statuses the plan writes

  std::optional<Result<std::vector<std::string>>> algorithms{};
  std::optional<Status> hsm{};  // opening the operator's HSM
  std::optional<Result<hsm::KeyInfo>> hsm_key{};
  std::optional<ImportGrant> grant{};  // on the key the HSM found (the account asked too)
  std::optional<Result<hsm::Capabilities>> capabilities{};
  std::optional<Result<nlohmann::json>> secret{};  // spec.source.wrappedSecretRef's Secret
  bool begun = false;                              // the progress status of the import is written
  std::vector<ImportAttempt> attempts{};           // one per Prepare
  std::optional<Result<kms::ImportResult>> imported{};
  std::optional<std::string> state_after{};  // the key's state word after the import ("" unknown)
};

struct ImportStep {
  enum class Kind {
    ListAlgorithms,     // kms.wrapping_algorithms(spec.keyType)     -> algorithms
    OpenHsm,            // the operator's HSM                        -> hsm
    FindHsmKey,         // hsm.find_key(ref)                          -> hsm_key
    Authorize,          // the grant on the found key and the account -> grant
    ReadCapabilities,   // hsm.capabilities()                         -> capabilities
    ReadSecret,         // GET Secret `secret`                        -> secret
    Begin,              // write `status` (phase before prepare)      -> begun
    Prepare,            // kms.prepare_import(target, existing)       -> attempts.push_back
    RecordWrappingKey,  // write `status` (the wrapping key)          -> attempts.back().recorded
    Wrap,               // hsm.wrap_key(ref, spec, wrapping key)      -> attempts.back().wrapped
    Import,             // kms.import_key(target, wrapping, wrapped)  -> imported
    LookAfter,          // kms.find_key(target) for the state word    -> state_after
    Record,             // write `status`: imported; the pass is done
    Fail,               // the pass ends with `failure`
  };
  Kind kind = Kind::Fail;
  // Done first, in this order: the audit record (the executor adds the HSM key and the
  // destination), the status write, then the Event (after the write, so it never tells of a
  // status that was refused).
  std::optional<ExportRecord> audit;
  std::optional<ImportedKeyStatus> status;
  std::optional<runtime::EventSpec> event;

  Failure failure;            // Fail
  hsm::KeyRef ref;            // FindHsmKey, Wrap
  hsm::WrapSpec spec;         // Wrap
  std::string secret;         // ReadSecret: the Secret's name
  std::string existing;       // Authorize, Prepare: the KMS key the import goes into
  kms::ImportTarget target;   // Prepare, Import, LookAfter
  kms::WrappingKey wrapping;  // Wrap (its public key), Import
  std::string wrapped;        // Import: the wrapped bytes
  kms::ImportKind import_kind = kms::ImportKind::First;  // Import
  // Authorize: read the Namespace anew for this grant (the grant on the key found, which gates
  // what is created in the KMS, and the last one before each wrap, so that key material leaves
  // the HSM only for a namespace selected at that moment); else the pass's one read of it,
  // shared by the checks that only gate what is read next.
  bool fresh_namespace = false;
  // Authorize, ReadCapabilities: -1 before anything is prepared (the answer goes to the
  // observation's own field), else the index of the attempt the answer belongs to.
  int attempt = -1;
};

ImportStep plan_import(const ImportObserved& observed);

}  // namespace byok::importedkey
