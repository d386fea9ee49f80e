#include "common/log.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace byok {
namespace {

const char* level_name(Logger::Level level) {
  switch (level) {
    case Logger::Level::Debug:
      return "debug";
    case Logger::Level::Info:
      return "info";
    case Logger::Level::Warn:
      return "warn";
    case Logger::Level::Error:
      return "error";
  }
  return "info";
}

// Quotes a text value only when it would otherwise be ambiguous to read back.
std::string text_value(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \"=\n\t") == std::string::npos) return v;
  // Invalid UTF-8 (a KMS answer, a tenant's field) becomes U+FFFD instead of an exception.
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

thread_local std::vector<std::pair<std::string, std::string>> t_scope_fields;

}  // namespace

LogScope::LogScope(std::initializer_list<std::pair<std::string, std::string>> fields)
    : previous_size_(t_scope_fields.size()) {
  t_scope_fields.insert(t_scope_fields.end(), fields.begin(), fields.end());
}

LogScope::~LogScope() { t_scope_fields.resize(previous_size_); }

void Logger::log(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  std::string ts = format_rfc3339(std::chrono::system_clock::now());
  std::string line;
  if (format_ == Format::Json) {
    nlohmann::json j;
    j["ts"] = ts;
    j["level"] = level_name(level);
    j["msg"] = std::string(msg);
    for (const auto& [k, v] : t_scope_fields) j[k] = v;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts + " " + level_name(level) + " " + std::string(msg);
    for (const auto& [k, v] : t_scope_fields) line += " " + k + "=" + text_value(v);
    for (const auto& [k, v] : fields) line += " " + std::string(k) + "=" + text_value(v);
  }
  std::lock_guard<std::mutex> lock(mu_);
  out_ << line << '\n';
  out_.flush();
}

bool Logger::parse_level(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::Debug;
  else if (text == "info")
    out = Level::Info;
  else if (text == "warn")
    out = Level::Warn;
  else if (text == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

bool Logger::parse_format(std::string_view text, Format& out) {
  if (text == "text")
    out = Format::Text;
  else if (text == "json")
    out = Format::Json;
  else
    return false;
  return true;
}

}  // namespace byok
