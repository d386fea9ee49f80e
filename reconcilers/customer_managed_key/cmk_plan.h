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
// - KeyVerified stays Unknown until a KMS client checks the key (the provider work).

#include <optional>
#include <string>
#include <vector>

#include "controller/runtime/events.h"
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

struct CmkInputs {
  Cmk cmk;
  std::vector<CmkPeer> peers;  // may include the CMK itself; it is skipped by name
  std::string now;             // RFC 3339
  std::string fresh_id;        // used only if status.id is still empty
};

struct CmkPlan {
  bool add_finalizer = false;
  bool remove_finalizer = false;
  std::optional<CmkStatus> status;  // set only when it differs from the object's status
  std::vector<runtime::EventSpec> events;
};

CmkPlan plan_cmk(const CmkInputs& in);

// Condition types and reasons, for the executor, tests and documentation.
namespace conditions {
inline constexpr char kReady[] = "Ready";
inline constexpr char kDefault[] = "Default";
inline constexpr char kReplacing[] = "Replacing";
inline constexpr char kKeyVerified[] = "KeyVerified";
}  // namespace conditions

}  // namespace byok::cmk
