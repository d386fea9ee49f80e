#include "kms/azure/byok_file.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace byok::kms::azure {

std::string make_byok_file(std::string_view kek_kid, std::string_view wrapped,
                           std::string_view generator) {
  nlohmann::ordered_json byok;
  byok["schema_version"] = kByokSchemaVersion;
  byok["header"] = {{"kid", std::string(kek_kid)}, {"alg", "dir"}, {"enc", kByokEncryption}};
  byok["ciphertext"] = base64url_encode(wrapped);
  byok["generator"] = std::string(generator);
  return byok.dump(2) + "\n";
}

}  // namespace byok::kms::azure
