#include "reconcilers/customer_managed_key/cmk_plan.h"

#include "kms/provider_traits.h"
#include "reconcilers/kms_provider/kms_failure.h"

namespace byok::cmk {
namespace {

using runtime::Condition;

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
  return {c.meta.name,       c.spec.provider,           c.spec.replaces,
          c.spec.is_default, c.meta.creation_timestamp, c.meta.deleting};
}

CmkPeer peer_from_object(const nlohmann::json& o) {
  const auto& md = o.at("metadata");
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto& spec = o.contains("spec") ? o["spec"] : kEmpty;
  return {md.value("name", ""),
          spec.value("provider", ""),
          spec.value("replaces", ""),
          spec.value("default", false),
          md.value("creationTimestamp", ""),
          md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null()};
}

bool peer_matters(const CmkPeer& p, const std::string& replaces) {
  return p.claims_default || !p.replaces.empty() || (!replaces.empty() && p.name == replaces);
}

namespace {

using runtime::find_condition;

}  // namespace

bool verification_due(const Cmk& cmk, SystemTime now, std::chrono::seconds interval) {
  const auto* verified = find_condition(cmk.status.conditions, conditions::kKeyVerified);
  if (!verified || verified->status != "True") return true;
  if (verified->observed_generation != cmk.meta.generation) return true;
  SystemTime last;
  if (cmk.status.last_verified_at.empty() || !parse_rfc3339(cmk.status.last_verified_at, last))
    return true;
  return now - last >= interval;
}

bool deletion_due(const Cmk& cmk) {
  return cmk.meta.deleting && cmk.meta.has_finalizer(kFinalizer) &&
         cmk.spec.deletion_policy == "Delete";
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
    runtime::set_condition(next.conditions,
                           Condition{type, status, reason, std::move(message), gen, ""}, in.now);
  };
  auto drop = [&](const char* type) {
    std::erase_if(next.conditions, [type](const Condition& c) { return c.type == type; });
  };
  const std::string provider = cmk.spec.provider;

  // What the KMS says, from this pass's check or else from the last one.
  const Condition* before = find_condition(cmk.status.conditions, conditions::kKeyVerified);
  std::optional<std::string> wrong_type;
  if (in.check) {
    const KeyCheck& check = *in.check;
    if (!check.accessor.empty()) next.accessor = check.accessor;
    if (check.key) {
      next.key_state = check.key->state;
      next.last_verified_at = in.now;
      wrong_type = wrong_key_type(provider, *check.key);
      if (wrong_type) {
        set(conditions::kKeyVerified, "False", reasons::kWrongKeyType,
            "spec.resource " + cmk.spec.resource + ": " + *wrong_type +
                "; register a key of the right type");
      } else {
        std::string detail = check.key->key_spec.empty() ? "" : ", " + check.key->key_spec;
        set(conditions::kKeyVerified, "True", reasons::kKeyFound,
            provider + " reports the key " + check.key->state + detail);
      }
    } else {
      auto f = kmsprovider::classify_kms_failure(check.provider_problem, check.error.kind);
      plan.transient_failure = f.transient;
      std::string fix = f.fix;
      set(conditions::kKeyVerified, f.status, f.reason,
          check.error.message + (fix.empty() ? "" : ": " + fix));
      if (std::string(f.reason) == kmsprovider::reasons::kKeyNotFound) next.key_state.clear();
    }
  } else if (!before) {
    set(conditions::kKeyVerified, "Unknown", reasons::kVerificationPending,
        "the key has not been checked against the KMS yet");
  }
  if (!in.interval_problem.empty())
    plan.events.push_back({"Warning", "InvalidVerifyInterval", "Reconcile", in.interval_problem});

  // A copy: the vector grows below and would leave a pointer dangling.
  std::optional<Condition> verified;
  if (const auto* v = find_condition(next.conditions, conditions::kKeyVerified)) verified = *v;
  const std::string verified_reason = verified ? verified->reason : "";
  std::optional<kms::CmkStatus> kms_status;
  if (verified_reason == kmsprovider::reasons::kKeyNotFound)
    kms_status = kms::CmkStatus::Deleted;
  else if (!next.key_state.empty())
    kms_status = kms::cmk_status_for(provider, next.key_state);

  // Status word and the default.
  std::optional<CmkPeer> by;
  if (cmk.meta.deleting) {
    next.status = kDeleted;
    next.is_default = false;
  } else {
    by = replaced_by(self, in.peers);
    if (kms_status == kms::CmkStatus::Deleted)
      next.status = kDeleted;
    else if (by || kms_status == kms::CmkStatus::Old)
      next.status = kOld;
    else
      next.status = kCurrent;
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
              "spec.default to false here, or delete " +
              winner->name);
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

  // Deletion: Retain lets go at once; Delete waits for the KMS to have scheduled the deletion.
  bool release = false;
  if (cmk.meta.deleting) {
    if (cmk.spec.deletion_policy != "Delete") {
      release = true;
      set(conditions::kReady, "False", reasons::kDeleting, "the registration is being removed");
      plan.events.push_back({"Normal", "Unregistered", "Delete",
                             "registration removed; the key in the KMS is retained "
                             "(deletionPolicy Retain)"});
    } else if (in.deletion && in.deletion->done) {
      release = true;
      set(conditions::kReady, "False", reasons::kDeleting, "the registration is being removed");
      plan.events.push_back(
          {"Normal", "KeyDeletionScheduled", "Delete",
           provider + " key " + cmk.spec.resource + " is scheduled for deletion" +
               (in.deletion->state.empty() ? "" : " (" + in.deletion->state + ")") +
               " (deletionPolicy Delete, window " + std::to_string(cmk.spec.deletion_window_days) +
               " days where the provider has one); registration removed"});
    } else if (in.deletion) {
      plan.transient_failure = transient(in.deletion->error.kind);
      std::string message = "deletionPolicy Delete: the KMS did not schedule the key's deletion: " +
                            in.deletion->error.message +
                            "; the registration stays until it does (set deletionPolicy: "
                            "Retain to remove it without deleting the key)";
      set(conditions::kReady, "False", reasons::kDeletionFailed, message);
      plan.events.push_back({"Warning", "KeyDeletionFailed", "Delete", message});
    }
  } else if (verified && verified->status != "True") {
    set(conditions::kReady, verified->status == "Unknown" ? "Unknown" : "False",
        verified->reason.c_str(), verified->message);
  } else if (kms_status == kms::CmkStatus::Deleted) {
    set(conditions::kReady, "False", reasons::kKeyDeleted,
        "the key is " + next.key_state + " in " + provider +
            ": it is on its way out; cancel the deletion in the KMS or register another key");
  } else if (kms_status == kms::CmkStatus::Old) {
    set(conditions::kReady, "False", reasons::kKeyNotUsable,
        "the key is " + next.key_state + " in " + provider +
            ": not usable now; enable it (or finish its import) in the KMS");
  } else if (!kms_status) {
    set(conditions::kReady, "False", reasons::kUnknownKeyState,
        provider + " reports state " + next.key_state +
            ", which this operator does not know; it is not treated as usable");
  } else if (by) {
    set(conditions::kReady, "True", reasons::kSuperseded,
        "the key is usable; replaced by CustomerManagedKey " + by->name);
  } else {
    set(conditions::kReady, "True", reasons::kKeyUsable,
        "the key is " + next.key_state + " in " + provider);
  }

  // updatedAt moves with what a user would call an update, and with nothing else.
  bool changed_meaning = cmk.status.observed_generation != gen ||
                         cmk.status.status != next.status ||
                         cmk.status.is_default != next.is_default;
  if (changed_meaning || next.updated_at.empty()) next.updated_at = in.now;

  if (cmk.status.id.empty())
    plan.events.push_back(
        {"Normal", "Registered", "Register",
         "registered " + cmk.spec.provider + " key " + cmk.spec.resource + " as id " + next.id});
  if (!cmk.status.key_state.empty() && !next.key_state.empty() &&
      cmk.status.key_state != next.key_state)
    plan.events.push_back({kms_status == kms::CmkStatus::Current ? "Normal" : "Warning",
                           "KeyStateChanged", "Verify",
                           "the key's state changed in " + provider + ": " + cmk.status.key_state +
                               " -> " + next.key_state});
  if (verified &&
      (!before || before->status != verified->status || before->reason != verified->reason)) {
    if (verified->status == "True")
      plan.events.push_back({"Normal", "KeyVerified", "Verify", verified->message});
    else if (verified->reason != reasons::kVerificationPending)
      plan.events.push_back({"Warning", "KeyVerificationFailed", "Verify",
                             verified->reason + ": " + verified->message});
  }
  if (!cmk.status.status.empty() && cmk.status.status != next.status)
    plan.events.push_back({"Normal", "StatusChanged", "Reconcile",
                           "status " + cmk.status.status + " -> " + next.status +
                               (by ? " (replaced by " + by->name + ")" : "")});
  if (!cmk.status.id.empty() && cmk.status.is_default != next.is_default && !cmk.meta.deleting)
    plan.events.push_back({"Normal", "DefaultChanged", "Reconcile",
                           next.is_default ? "this CMK is now the namespace default"
                                           : "this CMK is no longer the namespace default"});

  if (!(next == cmk.status)) plan.status = next;
  plan.remove_finalizer = release;
  return plan;
}

}  // namespace byok::cmk
