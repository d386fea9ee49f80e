#pragma once
// Structured logs, one line per record, as text ("msg key=value ...") or JSON. A Logger is passed
// to whoever logs: there is no global logger. Never pass key material or PINs as a field.

#include <initializer_list>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace byok {

class Logger {
 public:
  enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };
  enum class Format { Text, Json };
  using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;

  Logger(std::ostream& out, Format format = Format::Text, Level min_level = Level::Info)
      : out_(out), format_(format), min_level_(min_level) {}

  void log(Level level, std::string_view msg, Fields fields = {});
  void debug(std::string_view msg, Fields fields = {}) { log(Level::Debug, msg, fields); }
  void info(std::string_view msg, Fields fields = {}) { log(Level::Info, msg, fields); }
  void warn(std::string_view msg, Fields fields = {}) { log(Level::Warn, msg, fields); }
  void error(std::string_view msg, Fields fields = {}) { log(Level::Error, msg, fields); }
  bool enabled(Level level) const { return level >= min_level_; }

  static bool parse_level(std::string_view text, Level& out);
  static bool parse_format(std::string_view text, Format& out);

 private:
  std::mutex mu_;
  std::ostream& out_;
  Format format_;
  Level min_level_;
};

// Fields added to every record logged on this thread while the scope lives, before the record's
// own fields: what a worker is reconciling (controller, namespace, name, reconcileID), the way
// controller-runtime hands a reconcile a logger from its context. Scopes nest; a scope must end
// on the thread that opened it.
class LogScope {
 public:
  explicit LogScope(std::initializer_list<std::pair<std::string, std::string>> fields);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  size_t previous_size_;
};

}  // namespace byok
