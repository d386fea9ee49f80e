#pragma once
// Entra/Key Vault answers for the Azure unit tests (the scripted transport and clock are
// tests/unit/kms/scripted_transport.h).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/clock.h"
#include "kms/http_transport.h"
#include "tests/unit/kms/scripted_transport.h"

namespace byok::kms::azure::testing {

using kms::testing::answer;
using kms::testing::parse_form;
using kms::testing::ScriptedTransport;
using kms::testing::SettableClock;

// A JWT-shaped token carrying `claims` (the signature is not checked by the client).
inline std::string make_jwt(const nlohmann::json& claims) {
  return base64url_encode(R"({"typ":"JWT","alg":"RS256"})") + "." +
         base64url_encode(claims.dump()) + "." + base64url_encode("signature");
}

inline HttpResponse token_answer(const std::string& token, int expires_in = 3599) {
  return answer(200, nlohmann::json{{"token_type", "Bearer"},
                                    {"expires_in", expires_in},
                                    {"ext_expires_in", expires_in},
                                    {"access_token", token}}
                         .dump());
}

}  // namespace byok::kms::azure::testing
