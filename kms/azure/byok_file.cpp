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
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("schema_version", "") != kByokSchemaVersion)
    return bad(std::string("schema_version is not ") + kByokSchemaVersion);
  if (!j.contains("header") || !j["header"].is_object()) return bad("no header");
  const auto& header = j["header"];
  if (header.value("enc", "") != kByokEncryption)
    return bad(std::string("header.enc is not ") + kByokEncryption);
  ByokFile out;
  out.kek_kid = header.value("kid", "");
  if (out.kek_kid.empty()) return bad("header.kid is empty");
  auto wrapped = base64_decode(j.value("ciphertext", ""));
  if (!wrapped || wrapped->empty()) return bad("ciphertext is not base64url of the wrapped key");
  out.wrapped = std::move(*wrapped);
  return out;
}

}  // namespace byok::kms::azure
