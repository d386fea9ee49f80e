#pragma once
// What to do with one CustomerManagedKey, decided from the object and the other CMKs of its
// namespace alone: no I/O, so every rule is table-tested without a cluster.
//
// Rules:
// - A CMK without our finalizer gets it first, and nothing else happens in that pass.
// - status.id is assigned once and never changes; createdAt is the object's creation time;
//   updatedAt moves when the spec generation, the status word or the resolved default changes.
// - Default: of the CMKs in a namespace that claim `default` and are not being deleted, the most
//   recently created wins (ties: the greater name); the others get Default=False saying why.
// - status.status: `deleted` while deletion is in progress; `old` while another live CMK of the
//   same namespace and provider names this one in spec.replaces; otherwise `current`.
// - The KMS decides too (cmk_verification.h): a key the KMS reports pending deletion, destroyed
//   or gone is `deleted`; one it reports disabled or not yet usable is `old`. status.keyState
//   keeps the KMS's own word; KeyVerified says whether the last check succeeded and, if not, why
//   (one reason per cause: KeyNotFound, InvalidCredentials, AccessDenied, WrongKeyType,
//   KmsUnavailable, ProviderNotFound, CredentialsSecretNotFound, ProviderMisconfigured).
//   Without a check in this pass, the last keyState stands.
// - Deletion: Retain (default) only removes the registration; Delete first has the KMS schedule
//   the key's deletion, and the finalizer stays until it did.

#include <optional>
#include <string>
#include <vector>

#include "controller/runtime/events.h"
#include "reconcilers/customer_managed_key/cmk_verification.h"
#include "reconcilers/kms_provider/kms_failure.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

namespace byok::cmk {

// What the plan needs to know about the other CMKs of the namespace.
struct CmkPeer {
  std::string name;
  std::string provider;
  std::string replaces;
  bool claims_default = false;
  std::string created;  // metadata.creationTimestamp (RFC 3339 sorts as text)
  bool deleting = false;
};
CmkPeer peer_of(const Cmk& cmk);
// Reads only the fields a peer needs, for scanning a namespace without parsing whole objects.
CmkPeer peer_from_object(const nlohmann::json& object);
// Whether `peer` can change the plan of a CMK that replaces `replaces`: default claimers,
// replacers, and the CMK it replaces. Others are left out so a large namespace stays cheap.
bool peer_matters(const CmkPeer& peer, const std::string& replaces);

// What deletionPolicy Delete's call did (the reconciler makes it while the CMK is deleting).
struct DeletionOutcome {
  bool done = false;  // the KMS scheduled the deletion, or the key was already on its way out
  Error error;        // when not done
  std::string state;  // the provider's state word after the call, when it said
};

struct CmkInputs {
  Cmk cmk;
  std::vector<CmkPeer> peers;               // may include the CMK itself; it is skipped by name
  std::string now;                          // RFC 3339
  std::string fresh_id;                     // used only if status.id is still empty
  std::optional<KeyCheck> check;            // when a verification ran in this pass
  std::optional<DeletionOutcome> deletion;  // when deletionPolicy Delete ran in this pass
  std::string interval_problem;             // an unusable verify-interval annotation
};

struct CmkPlan {
  bool add_finalizer = false;
  bool remove_finalizer = false;
  std::optional<CmkStatus> status;  // set only when it differs from the object's status
  std::vector<runtime::EventSpec> events;
  // The failure is worth retrying soon (KMS or apiserver unreachable, throttled).
  bool transient_failure = false;
};

// Whether the KMS must be asked in this pass (see cmk_verification.h).
bool verification_due(const Cmk& cmk, SystemTime now, std::chrono::seconds interval);
// Whether the registration must ask the KMS to schedule the key's deletion in this pass.
bool deletion_due(const Cmk& cmk);

CmkPlan plan_cmk(const CmkInputs& in);

// Condition types and reasons, for the executor, tests and documentation.
namespace conditions {
inline constexpr char kReady[] = "Ready";
inline constexpr char kDefault[] = "Default";
inline constexpr char kReplacing[] = "Replacing";
inline constexpr char kKeyVerified[] = "KeyVerified";
}  // namespace conditions

// Condition reasons a user sees (CamelCase, stable: alerting may match on them). A failed check
// uses kmsprovider::reasons (kms_failure.h).
namespace reasons {
inline constexpr char kKeyFound[] = "KeyFound";
inline constexpr char kWrongKeyType[] = "WrongKeyType";
inline constexpr char kVerificationPending[] = "VerificationPending";
inline constexpr char kKeyUsable[] = "KeyUsable";
inline constexpr char kKeyNotUsable[] = "KeyNotUsable";
inline constexpr char kKeyDeleted[] = "KeyDeleted";
inline constexpr char kUnknownKeyState[] = "UnknownKeyState";
inline constexpr char kSuperseded[] = "Superseded";
inline constexpr char kDeleting[] = "Deleting";
inline constexpr char kDeletionFailed[] = "DeletionFailed";
}  // namespace reasons

}  // namespace byok::cmk
