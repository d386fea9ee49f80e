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

bool looks_like_byok_file(std::string_view bytes) {
  auto start = bytes.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || bytes[start] != '{') return false;
  return nlohmann::json::accept(bytes);
}

Result<ByokFile> parse_byok_file(std::string_view text) {
  auto bad = [](const std::string& why) {
    return make_error(ErrorKind::InvalidArgument, "not a .byok file: " + why);
  };
  // A member's string value, "" when absent or of another type (the file comes from a user).
  auto str = [](const nlohmann::json& o, const char* name) {
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (str(j, "schema_version") != kByokSchemaVersion)
    return bad(std::string("schema_version is not ") + kByokSchemaVersion);
  if (!j.contains("header") || !j["header"].is_object()) return bad("no header");
  const auto& header = j["header"];
  if (str(header, "enc") != kByokEncryption)
    return bad(std::string("header.enc is not ") + kByokEncryption);
  ByokFile out;
  out.kek_kid = str(header, "kid");
  if (out.kek_kid.empty()) return bad("header.kid is empty");
  auto wrapped = base64_decode(str(j, "ciphertext"));
  if (!wrapped || wrapped->empty()) return bad("ciphertext is not base64url of the wrapped key");
  out.wrapped = std::move(*wrapped);
  return out;
}

}  // namespace byok::kms::azure
