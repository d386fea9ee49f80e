// The structured logger's line shapes: one JSON object per line with ts, level, msg, the scope's
// fields and the record's own; or "ts level msg key=value ..." as text.

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"

using namespace byok;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}
}  // namespace

TEST_CASE("a JSON log line carries ts, level, msg, the scope's fields and its own", "[log]") {
  std::ostringstream out;
  Logger log(out, Logger::Format::Json, Logger::Level::Debug);
  {
    LogScope scope({{"controller", "customermanagedkey"},
                    {"namespace", "team-a"},
                    {"name", "alpha"},
                    {"reconcileID", "3f0c5b1e-6a2d-4c1e-9a7b-2d4e5f6a7b8c"}});
    log.info("reconciled", {{"result", "success"}});
  }
  log.warn("after the scope", {{"error", "a \"quoted\"\nmessage"}});

  auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 2);
  auto first = nlohmann::json::parse(lines[0]);
  SystemTime ts;
  CHECK(parse_rfc3339(first.at("ts").get<std::string>(), ts));
  CHECK(first.at("level") == "info");
  CHECK(first.at("msg") == "reconciled");
  CHECK(first.at("controller") == "customermanagedkey");
  CHECK(first.at("namespace") == "team-a");
  CHECK(first.at("name") == "alpha");
  CHECK(first.at("reconcileID") == "3f0c5b1e-6a2d-4c1e-9a7b-2d4e5f6a7b8c");
  CHECK(first.at("result") == "success");
  CHECK(first.size() == 8);

  auto second = nlohmann::json::parse(lines[1]);
  CHECK(second.at("level") == "warn");
  CHECK(second.at("error") == "a \"quoted\"\nmessage");
  CHECK_FALSE(second.contains("reconcileID"));  // the scope ended
}

TEST_CASE("log scopes nest and belong to their thread", "[log]") {
  std::ostringstream out;
  Logger log(out, Logger::Format::Json);
  LogScope outer({{"controller", "c"}});
  {
    LogScope inner({{"name", "n"}});
    std::thread other([&] { log.info("other thread"); });
    other.join();
    log.info("inner");
  }
  log.info("outer");
  auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 3);
  CHECK_FALSE(nlohmann::json::parse(lines[0]).contains("controller"));
  CHECK(nlohmann::json::parse(lines[1]).at("name") == "n");
  CHECK(nlohmann::json::parse(lines[2]).at("controller") == "c");
  CHECK_FALSE(nlohmann::json::parse(lines[2]).contains("name"));
}

TEST_CASE("a text log line quotes only ambiguous values and drops records below the level",
          "[log]") {
  std::ostringstream out;
  Logger log(out, Logger::Format::Text, Logger::Level::Info);
  log.debug("hidden");
  LogScope scope({{"name", "alpha"}});
  log.info("msg here", {{"key", "plain"}, {"error", "has space"}});
  auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].substr(20) == " info msg here name=alpha key=plain error=\"has space\"");
}

TEST_CASE("the text logger writes invalid UTF-8 from a hostile answer instead of throwing",
          "[log]") {
  std::ostringstream out;
  Logger log(out, Logger::Format::Text);
  CHECK_NOTHROW(log.info("kms answer", {{"body", std::string("bad \xff\xfe bytes")}}));
  CHECK(out.str().find("kms answer") != std::string::npos);
  std::ostringstream json_out;
  Logger json(json_out, Logger::Format::Json);
  CHECK_NOTHROW(json.info("kms answer", {{"body", std::string("bad \xff bytes")}}));
  CHECK_FALSE(nlohmann::json::parse(json_out.str(), nullptr, false).is_discarded());
}
