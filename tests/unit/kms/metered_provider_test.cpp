#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kms/metered_provider.h"

using namespace byok;

namespace {

// A client that trips over a hostile answer the way nlohmann::json does (a type_error).
class ThrowingClient : public kms::KmsProvider {
 public:
  const char* provider() const override { return "aws"; }
  Result<kms::KeyDescription> describe_key(const std::string&) override {
    nlohmann::json answer = {{"KeyMetadata", 42}};
    (void)answer.at("KeyMetadata").at("KeyId");  // throws: the field is not an object
    return kms::KeyDescription{};
  }
  Result<kms::DeletionSchedule> schedule_key_deletion(const std::string&, int) override {
    throw std::runtime_error("boom");
  }
  Status cancel_key_deletion(const std::string&) override { throw std::out_of_range("index"); }
  Result<kms::Accessor> who_am_i() override { return kms::Accessor{"p", "a", "i"}; }
  Result<std::vector<std::string>> wrapping_algorithms(const std::string&) override {
    return std::vector<std::string>{};
  }
  Status check_target(const kms::ImportTarget&, SystemTime) const override { return {}; }
  Result<std::optional<kms::KeyDescription>> find_key(const kms::ImportTarget&) override {
    return std::optional<kms::KeyDescription>();
  }
  Result<kms::WrappingKey> prepare_import(const kms::ImportTarget&, const std::string&) override {
    return make_error(ErrorKind::Unsupported, "");
  }
  Result<kms::ImportResult> import_key(const kms::ImportTarget&, const kms::WrappingKey&,
                                       const std::string&, kms::ImportKind) override {
    return make_error(ErrorKind::Unsupported, "");
  }
};

}  // namespace

TEST_CASE(
    "an exception from a KMS client on a hostile answer becomes an Internal error at the "
    "module's boundary, counted like any other outcome",
    "[kms]") {
  metrics::Registry registry;
  kms::MeteredProvider provider(std::make_unique<ThrowingClient>(), registry);
  auto described = provider.describe_key("k");
  REQUIRE_FALSE(described.ok());
  CHECK(described.error().kind == ErrorKind::Internal);
  CHECK(described.error().message.find(
            "aws describe_key: the client failed on an unexpected answer") == 0);
  auto scheduled = provider.schedule_key_deletion("k", 7);
  REQUIRE_FALSE(scheduled.ok());
  CHECK(scheduled.error().message.find("boom") != std::string::npos);
  CHECK_FALSE(provider.cancel_key_deletion("k").ok());
  CHECK(provider.who_am_i().ok());  // the ordinary path is untouched
  const std::string rendered = registry.render();
  CHECK(rendered.find("operation=\"describe_key\",outcome=\"" +
                      std::string(to_string(ErrorKind::Internal)) + "\"") != std::string::npos);
}
