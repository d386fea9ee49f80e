#pragma once
// Turning PKCS#11 return values into byok::Error. The ErrorKind decides what the controller does
// (retry, terminal condition), so the mapping lives in one place.

#include <string>

#include "common/result.h"
#include "hsm/pkcs11_types.h"

namespace byok::hsm {

// "CKR_PIN_INCORRECT" etc.; "CKR_0x..." for values this table does not name.
std::string rv_name(CK_RV rv);

// Kind for a failed call: PIN problems -> Unauthenticated, missing token/device -> Unavailable,
// mechanism/key-type refusals -> Unsupported, bad templates/arguments -> InvalidArgument.
ErrorKind rv_kind(CK_RV rv);

// Error whose message is "<what>: CKR_NAME (0x..)".
Error rv_error(CK_RV rv, const std::string& what);

// True when the session (or the whole token) is gone and reopening + logging in again may help:
// CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR,
// CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED, CKR_USER_NOT_LOGGED_IN, CKR_SLOT_ID_INVALID...
bool rv_session_lost(CK_RV rv);

}  // namespace byok::hsm
