#include "reconcilers/customer_managed_key/cmk_plan.h"

namespace byok::cmk {
namespace {

using runtime::Condition;
using runtime::EventSpec;

// Later creation wins; on equal timestamps the greater name, so every CMK agrees on one winner.
bool newer(const CmkPeer& a, const CmkPeer& b) {
  if (a.created != b.created) return a.created > b.created;
  return a.name > b.name;
}

std::optional<CmkPeer> default_winner(const CmkPeer& self, const std::vector<CmkPeer>& peers) {
  std::optional<CmkPeer> best;
  auto consider = [&best](const CmkPeer& p) {
    if (!p.claims_default || p.deleting) return;
    if (!best || newer(p, *best)) best = p;
  };
  consider(self);
  for (const auto& p : peers)
    if (p.name != self.name) consider(p);
  return best;
}

// The live CMK of the same provider that replaces `self`, if any (the newest, if several do).
std::optional<CmkPeer> replaced_by(const CmkPeer& self, const std::vector<CmkPeer>& peers) {
  std::optional<CmkPeer> by;
  for (const auto& p : peers) {
    if (p.name == self.name || p.deleting || p.replaces != self.name || p.provider != self.provider)
      continue;
    if (!by || newer(p, *by)) by = p;
  }
  return by;
}

const CmkPeer* find_peer(const std::vector<CmkPeer>& peers, const std::string& name) {
  for (const auto& p : peers)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace

CmkPeer peer_of(const Cmk& c) {
  return {c.meta.name, c.spec.provider, c.spec.replaces, c.spec.is_default,
          c.meta.creation_timestamp, c.meta.deleting};
}

CmkPeer peer_from_object(const nlohmann::json& o) {
  const auto& md = o.at("metadata");
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto& spec = o.contains("spec") ? o["spec"] : kEmpty;
  return {md.value("name", ""), spec.value("provider", ""), spec.value("replaces", ""),
          spec.value("default", false), md.value("creationTimestamp", ""),
          md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null()};
}

bool peer_matters(const CmkPeer& p, const std::string& replaces) {
  return p.claims_default || !p.replaces.empty() || (!replaces.empty() && p.name == replaces);
}

CmkPlan plan_cmk(const CmkInputs& in) {
  const Cmk& cmk = in.cmk;
  CmkPlan plan;
  const int64_t gen = cmk.meta.generation;

  if (!cmk.meta.deleting && !cmk.meta.has_finalizer(kFinalizer)) {
    plan.add_finalizer = true;
    return plan;
  }
  if (cmk.meta.deleting && !cmk.meta.has_finalizer(kFinalizer)) return plan;  // not ours to hold

  CmkStatus next = cmk.status;
  next.observed_generation = gen;
  if (next.id.empty()) next.id = in.fresh_id;
  next.created_at = cmk.meta.creation_timestamp;

  const CmkPeer self = peer_of(cmk);
  auto set = [&](const char* type, const char* status, const char* reason, std::string message) {
    runtime::set_condition(next.conditions, Condition{type, status, reason, std::move(message), gen, ""},
                           in.now);
  };
  auto drop = [&](const char* type) {
    std::erase_if(next.conditions, [type](const Condition& c) { return c.type == type; });
  };

  // Status word and the default.
  std::optional<CmkPeer> by;
  if (cmk.meta.deleting) {
    next.status = kDeleted;
    next.is_default = false;
  } else {
    by = replaced_by(self, in.peers);
    next.status = by ? kOld : kCurrent;
    auto winner = default_winner(self, in.peers);
    next.is_default = winner && winner->name == self.name;
    if (!cmk.spec.is_default) {
      drop(conditions::kDefault);
    } else if (next.is_default) {
      set(conditions::kDefault, "True", "DefaultKey",
          "this CMK is the default of namespace " + cmk.meta.namespace_);
    } else {
      set(conditions::kDefault, "False", "DefaultClaimedByNewer",
          "CustomerManagedKey " + winner->name +
              " also claims default and was created later, so it is the default; set "
              "spec.default to false here, or delete " + winner->name);
    }
  }

  // spec.replaces: say whether it points at something it can supersede.
  if (cmk.spec.replaces.empty() || cmk.meta.deleting) {
    drop(conditions::kReplacing);
  } else if (const CmkPeer* target = find_peer(in.peers, cmk.spec.replaces); !target) {
    set(conditions::kReplacing, "False", "ReplacedKeyNotFound",
        "spec.replaces names CustomerManagedKey " + cmk.spec.replaces +
            ", which does not exist in this namespace; fix the name or remove spec.replaces");
  } else if (target->provider != cmk.spec.provider) {
    set(conditions::kReplacing, "False", "ProviderMismatch",
        "spec.replaces names CustomerManagedKey " + cmk.spec.replaces + " of provider " +
            target->provider + ", but this CMK is " + cmk.spec.provider +
            "; a CMK can only replace one of the same provider");
  } else {
    set(conditions::kReplacing, "True", "Superseding",
        "CustomerManagedKey " + cmk.spec.replaces + " is old while this CMK exists");
  }

  if (!runtime::find_condition(next.conditions, conditions::kKeyVerified))
    set(conditions::kKeyVerified, "Unknown", "NoKmsClient",
        "the key is not checked against the KMS yet: this controller has no KMS client");

  if (cmk.meta.deleting) {
    set(conditions::kReady, "False", "Deleting", "the registration is being removed");
  } else if (by) {
    set(conditions::kReady, "True", "Superseded",
        "registered; replaced by CustomerManagedKey " + by->name);
  } else {
    set(conditions::kReady, "True", "Registered", "registered as the current key");
  }

  // updatedAt moves with what a user would call an update, and with nothing else.
  bool changed_meaning = cmk.status.observed_generation != gen || cmk.status.status != next.status ||
                         cmk.status.is_default != next.is_default;
  if (changed_meaning || next.updated_at.empty()) next.updated_at = in.now;

  if (cmk.status.id.empty())
    plan.events.push_back({"Normal", "Registered", "Register",
                           "registered " + cmk.spec.provider + " key " + cmk.spec.resource +
                               " as id " + next.id});
  if (!cmk.status.status.empty() && cmk.status.status != next.status)
    plan.events.push_back({"Normal", "StatusChanged", "Reconcile",
                           "status " + cmk.status.status + " -> " + next.status +
                               (by ? " (replaced by " + by->name + ")" : "")});
  if (!cmk.status.id.empty() && cmk.status.is_default != next.is_default && !cmk.meta.deleting)
    plan.events.push_back({"Normal", "DefaultChanged", "Reconcile",
                           next.is_default ? "this CMK is now the namespace default"
                                           : "this CMK is no longer the namespace default"});

  if (!(next == cmk.status)) plan.status = next;
  if (cmk.meta.deleting) {
    // Retain: the key stays in the KMS; removing the registration is all there is to do.
    plan.remove_finalizer = true;
    plan.events.push_back({"Normal", "Unregistered", "Delete",
                           "registration removed; the key in the KMS is retained"});
  }
  return plan;
}

}  // namespace byok::cmk
