// The operator's HSM handle against a real SoftHSM2 token: a PIN the token refused is never
// offered again (real HSMs lock a token after a few wrong PINs), until the PIN file changes.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "reconcilers/imported_key/operator_hsm.h"
#include "tests/hsm/test_token.h"

using namespace byok;

TEST_CASE("operator HSM: a refused PIN is not offered again until the PIN file changes",
          "[importedkey][hsm]") {
  hsm::test::TestToken token("pin-guard");
  const std::string pin_file = token.write_file("operator-pin", "0000-wrong\n");
  token.export_to_environment(pin_file);
  std::ostringstream out;
  Logger log(out, Logger::Format::Json);
  auto made = importedkey::OperatorHsm::from_environment("", log);
  REQUIRE(made.ok());
  auto& operator_hsm = **made;

  auto first = operator_hsm.get();
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().kind == ErrorKind::Unauthenticated);
  CHECK_THAT(first.error().message,
             Catch::Contains("not offered again until " + pin_file + " changes"));
  // The same refusal, from memory: the readiness check and every reconcile ask again.
  for (int i = 0; i < 3; ++i) {
    auto again = operator_hsm.get();
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message == first.error().message);
    CHECK_FALSE(operator_hsm.check().ok());
  }
  // Only one login attempt was made: the log says so once.
  std::string text = out.str();
  size_t refusals = 0;
  for (size_t at = text.find("the HSM refused the PIN"); at != std::string::npos;
       at = text.find("the HSM refused the PIN", at + 1))
    ++refusals;
  CHECK(refusals == 1);

  // The Secret behind the file is fixed: the new PIN is tried, and opens the token.
  std::ofstream(pin_file, std::ios::trunc) << token.pin() << "\n";
  auto fixed = operator_hsm.get();
  INFO((fixed.ok() ? std::string() : fixed.error().message));
  CHECK(fixed.ok());
  CHECK(operator_hsm.check().ok());
  for (const char* v : {"BYOK_PKCS11_MODULE", "BYOK_HSM_TOKEN", "BYOK_HSM_PIN_FILE"}) unsetenv(v);
}

TEST_CASE(
    "operator HSM: a token whose user PIN is not set yet is asked again, and opens once it is",
    "[importedkey][hsm]") {
  // CKR_USER_PIN_NOT_INITIALIZED compares no PIN, so it is no reason to hold the PIN back: the
  // security officer may still be setting it, and SoftHSM2 answers it when it reads its token
  // file while another process (a second replica logging in) rewrites it.
  hsm::test::TestToken token("pin-not-yet", hsm::test::UserPin::NotYet);
  token.export_to_environment();
  std::ostringstream out;
  Logger log(out, Logger::Format::Json);
  auto made = importedkey::OperatorHsm::from_environment("", log);
  REQUIRE(made.ok());
  auto& operator_hsm = **made;

  for (int i = 0; i < 2; ++i) {
    auto early = operator_hsm.get();
    REQUIRE_FALSE(early.ok());
    CHECK(early.error().kind == ErrorKind::Unavailable);
    CHECK_THAT(early.error().message, Catch::Contains("CKR_USER_PIN_NOT_INITIALIZED") &&
                                          Catch::Contains("no user PIN yet"));
    CHECK_THAT(early.error().message, !Catch::Contains("not offered again"));
  }
  CHECK_THAT(out.str(), !Catch::Contains("the HSM refused the PIN"));

  // The ceremony ends: the same PIN file, unchanged, now opens the token.
  token.set_user_pin();
  auto opened = operator_hsm.get();
  INFO((opened.ok() ? std::string() : opened.error().message));
  CHECK(opened.ok());
  CHECK(operator_hsm.check().ok());
  for (const char* v : {"BYOK_PKCS11_MODULE", "BYOK_HSM_TOKEN", "BYOK_HSM_PIN_FILE"}) unsetenv(v);
}

TEST_CASE("operator HSM: a PIN in the environment is refused at start, naming the file to use",
          "[importedkey][hsm]") {
  hsm::test::TestToken token("pin-env");
  token.export_to_environment();
  setenv("BYOK_HSM_PIN", token.pin().c_str(), 1);
  std::ostringstream out;
  Logger log(out, Logger::Format::Json);
  auto made = importedkey::OperatorHsm::from_environment("", log);
  unsetenv("BYOK_HSM_PIN");
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().kind == ErrorKind::InvalidArgument);
  CHECK_THAT(made.error().message, Catch::Contains("BYOK_HSM_PIN_FILE"));
  CHECK(made.error().message.find(token.pin()) == std::string::npos);
  // With the file alone it opens.
  auto ok = importedkey::OperatorHsm::from_environment("", log);
  REQUIRE(ok.ok());
  CHECK((*ok)->get().ok());
}

TEST_CASE("operator HSM: /readyz's check asks the token at most once per cache period",
          "[importedkey][hsm]") {
  hsm::test::TestToken token("health-cache");
  token.export_to_environment();
  std::ostringstream out;
  Logger log(out, Logger::Format::Json);
  metrics::Registry registry;
  auto made = importedkey::OperatorHsm::from_environment("", log, &registry);
  REQUIRE(made.ok());
  for (int i = 0; i < 20; ++i) CHECK((*made)->check().ok());
  const std::string rendered = registry.render();
  INFO(rendered);
  // One C_GetTokenInfo for twenty probes.
  CHECK(rendered.find("byok_hsm_operations_total{operation=\"info\",outcome=\"success\"} 1\n") !=
        std::string::npos);
}
