// How an ImportedKey reports a KMS or HSM failure (reconcilers/imported_key/ik_failure.h).
#include <catch2/catch.hpp>

#include "reconcilers/imported_key/ik_failure.h"

using namespace byok;
using namespace byok::importedkey;
using byok::kmsprovider::ProviderProblem;

TEST_CASE(
    "kms_failure: only a name held by another key is KeyNameTaken, a KMS not ready yet is "
    "KmsNotReady",
    "[importedkey][failure]") {
  auto taken =
      kms_failure(ProviderProblem::None,
                  Error{ErrorKind::AlreadyExists, "alias/k names key 1, not 2"}, "importing");
  CHECK(taken.reason == reasons::kKeyNameTaken);
  CHECK_FALSE(taken.transient);
  CHECK(taken.message == "importing: alias/k names key 1, not 2");

  // An expired AWS import token, a Google ImportJob still generating, an OCI quota, an Azure key
  // being purged: none of them is a name clash. Each is looked at again after the lasting-failure
  // delay, not the queue's fast backoff (each try repeats the import).
  for (const char* words :
       {"KMS ImportKeyMaterial: ExpiredImportTokenException: expired (HTTP 400)",
        "GCP GetImportJob: projects/p/.../importJobs/j is PENDING_GENERATION, not ACTIVE",
        "OCI ImportKey: QuotaExceeded: key quota reached (HTTP 400)",
        "Key Vault ImportKey: Conflict: key is being deleted (HTTP 409)"}) {
    auto f = kms_failure(ProviderProblem::None, Error{ErrorKind::FailedPrecondition, words},
                         "importing");
    INFO(words);
    CHECK(f.reason == reasons::kKmsNotReady);
    CHECK_FALSE(f.transient);
    CHECK(is_kms_reason(f.reason));  // the KMS's words: shown to a tenant for its own provider only
  }

  auto refused = kms_failure(ProviderProblem::None, Error{ErrorKind::InvalidArgument, "bad wrap"},
                             "importing");
  CHECK(refused.reason == reasons::kImportRefused);
  CHECK_FALSE(refused.transient);
  auto down =
      kms_failure(ProviderProblem::None, Error{ErrorKind::Unavailable, "refused"}, "importing");
  CHECK(down.transient);
  CHECK(down.reason != reasons::kKeyNameTaken);
}

TEST_CASE("hsm_failure: a missing key, an unavailable HSM and a refused wrap",
          "[importedkey][failure]") {
  CHECK(hsm_failure(Error{ErrorKind::NotFound, "no key"}, "wrapping").reason ==
        reasons::kHsmKeyNotFound);
  auto down = hsm_failure(Error{ErrorKind::Unavailable, "C_OpenSession"}, "wrapping");
  CHECK(down.reason == reasons::kHsmUnavailable);
  CHECK(down.transient);
  CHECK(hsm_failure(Error{ErrorKind::Unsupported, "no OAEP-SHA256"}, "wrapping").reason ==
        reasons::kHsmCannotWrap);
}
