#include "reconcilers/imported_key/ik_plan.h"

#include "controller/runtime/error_policy.h"

#include <algorithm>

namespace byok::importedkey {
namespace {

using runtime::Condition;

void set(ImportedKeyStatus& st, const ImportedKey& key, const char* type, const std::string& status,
         const std::string& reason, const std::string& message, const std::string& now) {
  runtime::set_condition(st.conditions,
                         Condition{type, status, reason, message, key.meta.generation, ""}, now);
}

ImportedKeyStatus base(const ImportedKey& key) {
  ImportedKeyStatus st = key.status;
  st.observed_generation = key.meta.generation;
  return st;
}

std::string describe_key(const kms::KeyDescription& k) {
  return k.resource.empty() ? k.key_id : k.resource;
}

// Ready from the KMS's state: usable now, or why not.
void set_ready_from_state(ImportedKeyStatus& st, const ImportedKey& key,
                          const kms::KeyDescription& found, const std::string& now) {
  const std::string where = describe_key(found);
  if (found.status == kms::CmkStatus::Current)
    set(st, key, conditions::kReady, "True", reasons::kKeyUsable,
        "key " + where + " is " + found.state + " in the KMS", now);
  else
    set(st, key, conditions::kReady, "False", reasons::kKeyNotUsable,
        "key " + where + " is " + (found.state.empty() ? "in an unknown state" : found.state) +
            " in the KMS: it cannot be used until it is enabled (or its deletion cancelled) there",
        now);
}

}  // namespace

std::string reimport_request(const ImportedKey& key) {
  const auto& a = key.meta.annotations;
  auto it = a.find(kReimportAnnotation);
  return it != a.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool reimport_requested(const ImportedKey& key) {
  auto value = reimport_request(key);
  return !value.empty() && value != key.status.reimport;
}

std::chrono::seconds lasting_failure_delay(const ImportedKeyStatus& before, SystemTime now) {
  const auto* ready = runtime::find_condition(before.conditions, conditions::kReady);
  SystemTime since;
  if (!ready || ready->status != "False" || !parse_rfc3339(ready->last_transition_time, since))
    return runtime::lasting_failure_delay(std::chrono::seconds(0));
  return runtime::lasting_failure_delay(
      std::chrono::duration_cast<std::chrono::seconds>(now - since));
}

Step decide(const ImportedKey& key, const std::optional<kms::KeyDescription>& found) {
  const auto& st = key.status;
  if (!found) return st.imported ? Step::KeyMissing : Step::Import;
  if (!found->holds_material) {
    if (!st.imported) return Step::Import;  // a container awaiting its first material
    return reimport_requested(key) ? Step::Import : Step::MaterialMissing;
  }
  if (!st.imported) return Step::Adopt;
  if (key.spec.rotate > st.rotation) {
    if (!key.spec.allow_rotation) return Step::RotationNotAllowed;
    // A rotation recorded as under way whose new version the KMS already shows.
    if (st.phase == phases::kRotating && !found->version.empty() &&
        found->version != st.key_version)
      return Step::AdoptRotation;
    return Step::Rotate;
  }
  return Step::Observe;
}

ImportedKeyStatus status_in_progress(const ImportedKey& key, const std::string& phase,
                                     const std::string& message, const std::string& now) {
  ImportedKeyStatus st = base(key);
  st.phase = phase;
  set(st, key, conditions::kReady, st.imported ? "True" : "False", reasons::kImportInProgress,
      message, now);
  if (!st.imported)
    set(st, key, conditions::kImported, "False", reasons::kImportInProgress, message, now);
  return st;
}

ImportedKeyStatus status_imported(const ImportedKey& key, const kms::ImportResult& result,
                                  const std::string& key_state, bool rotated,
                                  const std::string& now) {
  ImportedKeyStatus st = base(key);
  st.imported = true;
  st.key_id = result.resource.empty() ? result.key_id : result.resource;
  st.key_version = result.version;
  st.imported_at = now;
  st.key_state = key_state;
  st.phase = phases::kImported;
  st.rotation = key.spec.rotate;
  st.reimport = reimport_request(key);
  std::string what =
      rotated ? "new material imported as version " + result.version : "key material imported";
  set(st, key, conditions::kImported, "True", reasons::kImported,
      what + " into " + st.key_id +
          (rotated || result.version.empty() ? "" : " (version " + result.version + ")"),
      now);
  set(st, key, conditions::kReady, "True", reasons::kImported, what + " into " + st.key_id, now);
  return st;
}

ImportedKeyStatus status_adopted(const ImportedKey& key, const kms::KeyDescription& found,
                                 const std::string& now) {
  ImportedKeyStatus st = base(key);
  const bool rotation = st.imported;
  st.imported = true;
  st.key_id = describe_key(found);
  st.key_version = found.version;
  if (st.imported_at.empty() || rotation) st.imported_at = now;
  st.key_state = found.state;
  st.phase = phases::kImported;
  st.rotation = key.spec.rotate;
  st.reimport = reimport_request(key);
  set(st, key, conditions::kImported, "True", reasons::kImported,
      std::string(rotation ? "rotation" : "import") +
          " found completed in the KMS (the operator had stopped before recording it): " +
          st.key_id + (found.version.empty() ? "" : " version " + found.version),
      now);
  set_ready_from_state(st, key, found, now);
  return st;
}

ImportedKeyStatus status_observed(const ImportedKey& key, const kms::KeyDescription& found,
                                  const std::string& now) {
  ImportedKeyStatus st = base(key);
  st.key_state = found.state;
  if (st.key_id.empty()) st.key_id = describe_key(found);
  // The version the KMS uses now, even one made outside the operator: a later rotation that
  // stops half way compares against it, and must not take that version for its own.
  if (!found.version.empty()) st.key_version = found.version;
  // A re-import asked for while the material is there has nothing to do: it is used up, so
  // that it cannot bring back material deleted later.
  st.reimport = reimport_request(key);
  set_ready_from_state(st, key, found, now);
  return st;
}

ImportedKeyStatus status_failed(const ImportedKey& key, const Failure& failure,
                                const std::string& now) {
  ImportedKeyStatus st = base(key);
  set(st, key, conditions::kReady, failure.transient ? "Unknown" : "False", failure.reason,
      failure.message, now);
  if (!st.imported)
    set(st, key, conditions::kImported, "False", failure.reason, failure.message, now);
  return st;
}

std::optional<runtime::EventSpec> event_for(const ImportedKeyStatus& before,
                                            const ImportedKeyStatus& after) {
  const auto* was = runtime::find_condition(before.conditions, conditions::kReady);
  const auto* now = runtime::find_condition(after.conditions, conditions::kReady);
  if (!now || (was && was->reason == now->reason && was->status == now->status))
    return std::nullopt;
  if (now->reason == reasons::kImportInProgress || now->reason == reasons::kImported)
    return std::nullopt;  // the steps record their own Events
  if (now->status == "True")
    return runtime::EventSpec{"Normal", now->reason, "Observe", now->message};
  return runtime::EventSpec{"Warning", now->reason, "Import", now->message};
}

bool key_may_be_unnamed(const ImportedKeyStatus& status) {
  return status.phase == phases::kCreatingKey || !status.key_id.empty();
}

}  // namespace byok::importedkey
