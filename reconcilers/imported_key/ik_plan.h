#pragma once
// What to do with one ImportedKey, decided from the object and what the KMS holds for it (the
// answer of KmsProvider::find_key), with no I/O: every rule is table-tested without a cluster.
//
// Rules:
// - A key the KMS holds with material is never imported again: if the status does not know it
//   yet (a controller died between the import and the status write), it is adopted.
// - A key the KMS holds without material (AWS PendingImport, a Google CryptoKey without a
//   version) receives the import: the container a crashed attempt created is reused, never a
//   second one made.
// - No key in the KMS: imported from scratch, unless the status says it was imported before
//   (someone deleted it outside the cluster): then it is reported, never silently re-created.
// - spec.rotate above status.rotation (allowRotation keys only; admission refuses the rest)
//   imports new material as a new version. If the status shows a rotation in progress and the
//   KMS's current version moved past the one recorded, that rotation happened: adopted.

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/events.h"
#include "kms/kms_provider.h"
#include "reconcilers/imported_key/imported_key_types.h"

namespace byok::importedkey {

inline constexpr char kFinalizer[] = "byok.dev/importedkey";

// status.phase: a progress marker written before each step with an external side effect.
namespace phases {
inline constexpr char kCreatingKey[] = "CreatingKey";  // prepare_import may create a container
inline constexpr char kImporting[] = "Importing";      // wrapping key fetched, import under way
inline constexpr char kRotating[] = "Rotating";        // new material as a new version
inline constexpr char kImported[] = "Imported";
inline constexpr char kDeleting[] = "Deleting";
}  // namespace phases

namespace conditions {
inline constexpr char kReady[] = "Ready";
inline constexpr char kImported[] = "Imported";
}  // namespace conditions

// Condition reasons (CamelCase, stable: alerting may match on them). KMS failures use
// kmsprovider::reasons (kms_failure.h).
namespace reasons {
inline constexpr char kImported[] = "Imported";
inline constexpr char kKeyUsable[] = "KeyUsable";
inline constexpr char kKeyNotUsable[] = "KeyNotUsable";
inline constexpr char kImportInProgress[] = "ImportInProgress";
inline constexpr char kKeyMissing[] = "KeyMissing";
inline constexpr char kKeyNameTaken[] = "KeyNameTaken";
// The KMS refused for its present state (an expired import token, an import job not yet active,
// a quota, a key still being purged): looked at again after the lasting-failure delay.
inline constexpr char kKmsNotReady[] = "KmsNotReady";
inline constexpr char kUnsupportedKeyType[] = "UnsupportedKeyType";
inline constexpr char kHsmNotConfigured[] = "HsmNotConfigured";
inline constexpr char kHsmUnavailable[] = "HsmUnavailable";
inline constexpr char kHsmKeyNotFound[] = "HsmKeyNotFound";
inline constexpr char kHsmKeyTypeMismatch[] = "HsmKeyTypeMismatch";
inline constexpr char kHsmCannotWrap[] = "HsmCannotWrap";
inline constexpr char kWrappedSecretNotFound[] = "WrappedSecretNotFound";
inline constexpr char kWrappedSecretInvalid[] = "WrappedSecretInvalid";
inline constexpr char kWrappingKeyMismatch[] = "WrappingKeyMismatch";
inline constexpr char kWrappedSourceUnsupported[] = "WrappedSourceUnsupported";
inline constexpr char kRotationNotAllowed[] = "RotationNotAllowed";
inline constexpr char kRotationUnsupported[] = "RotationUnsupported";
inline constexpr char kImportRefused[] = "ImportRefused";
// The spec breaks a rule of the provider's API (e.g. AWS: validTo more than 365 days ahead),
// found before the KMS was asked anything.
inline constexpr char kSpecNotImportable[] = "SpecNotImportable";
inline constexpr char kDeletionFailed[] = "DeletionFailed";
inline constexpr char kKeyMaterialMissing[] = "KeyMaterialMissing";
inline constexpr char kNotAuthorized[] = "NotAuthorized";  // no HsmKeyPolicy grants it
inline constexpr char kWrappingKeyNotTrusted[] = "WrappingKeyNotTrusted";  // weak or unpinned KEK
}  // namespace reasons

// Setting this annotation to a new value asks for the material to be imported again into a key
// whose material is gone (deleted in the KMS, or expired at validTo): the operator never puts
// material back on its own, since deleting it is how a KMS revokes a key in an emergency.
inline constexpr char kReimportAnnotation[] = "byok.dev/reimport";

enum class Step {
  Import,           // first material (into found->key_id when a container exists)
  Adopt,            // the KMS holds the imported key; record it
  Rotate,           // new material as a new version
  AdoptRotation,    // the rotation in progress happened; record it
  Observe,          // imported and up to date: only refresh keyState and conditions
  KeyMissing,       // imported before, gone from the KMS now
  MaterialMissing,  // imported before, the key is there but its material is gone
  RotationNotAllowed,
};

Step decide(const ImportedKey& key, const std::optional<kms::KeyDescription>& found);

// The byok.dev/reimport annotation's value ("" when unset), and whether it asks for an import
// not yet done (it differs from status.reimport).
std::string reimport_request(const ImportedKey& key);
bool reimport_requested(const ImportedKey& key);

// Why the reconcile could not go on: becomes Ready (False, or Unknown when transient) and, if
// the key is not imported yet, Imported=False with the same reason, plus a Warning Event.
struct Failure {
  std::string reason;
  std::string message;
  bool transient = false;  // retry with backoff; else wait for a change (or the periodic look)
  std::optional<std::chrono::seconds> retry_after =
      std::nullopt;  // the KMS's Retry-After, for the backoff
};

// Whether a key of this object may exist in the KMS under no name the KMS finds it by (AWS
// names a key with an alias after CreateKey): a create began and may have died before the
// name, or the status records a key whose name lookup then fails (an alias that vanished or is
// not yet visible). Only then does find_key() search the account by owner mark.
bool key_may_be_unnamed(const ImportedKeyStatus& status);

// When to look again after a lasting failure: the runtime's lasting_failure_delay of how long
// the key has been not Ready (Ready False since its lastTransitionTime in `before`). A fix the
// operator sees (a spec change) acts at once.
std::chrono::seconds lasting_failure_delay(const ImportedKeyStatus& before, SystemTime now);

// The status after a step; `now` is RFC 3339. Conditions keep their lastTransitionTime unless
// their status flips.
ImportedKeyStatus status_in_progress(const ImportedKey& key, const std::string& phase,
                                     const std::string& message, const std::string& now);
ImportedKeyStatus status_imported(const ImportedKey& key, const kms::ImportResult& result,
                                  const std::string& key_state, bool rotated,
                                  const std::string& now);
ImportedKeyStatus status_adopted(const ImportedKey& key, const kms::KeyDescription& found,
                                 const std::string& now);
ImportedKeyStatus status_observed(const ImportedKey& key, const kms::KeyDescription& found,
                                  const std::string& now);
ImportedKeyStatus status_failed(const ImportedKey& key, const Failure& failure,
                                const std::string& now);

// The Events that go with a status change: one per changed Ready reason (Normal when Ready is
// True, Warning otherwise), so a failing reconcile repeats nothing.
std::optional<runtime::EventSpec> event_for(const ImportedKeyStatus& before,
                                            const ImportedKeyStatus& after);

}  // namespace byok::importedkey
