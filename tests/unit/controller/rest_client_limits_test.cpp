#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "controller/kube/resource.h"
#include "controller/kube/rest_client.h"
#include "tests/unit/support/raw_server.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/test_kinds.h"

using namespace byok;
using byok::testing::RawServer;

namespace {
std::unique_ptr<kube::KubeClient> client_for(const RawServer& server) {
  kube::ClusterConfig config;
  config.server = server.base();
  return std::make_unique<kube::RestKubeClient>(config, std::chrono::seconds(10));
}
}  // namespace

TEST_CASE("a watch line over the cap ends the watch with an error naming the cap, unbuffered",
          "[controller][kube][limits]") {
  std::string event = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})";
  std::string endless(kube::kMaxWatchEventBytes + 1024, 'x');
  RawServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" + event +
      "\n" + endless);
  auto client = client_for(server);
  std::vector<std::string> names;
  StopSignal stop;
  auto st = client->watch(
      byok::testing::widgets(), "ns", {},
      [&](const kube::WatchEvent& ev) {
        names.push_back(ev.object["metadata"]["name"]);
        return true;
      },
      stop);
  CHECK(names == std::vector<std::string>{"a"});  // what came before the long line was delivered
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("LineTooLong") != std::string::npos);
}

TEST_CASE("an apiserver answer over the cap is refused by name", "[controller][kube][limits]") {
  RawServer server("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(kube::kMaxApiserverBodyBytes + 1) + "\r\n\r\n{}");
  auto client = client_for(server);
  auto r = client->get(byok::testing::widgets(), "ns", "a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find(kube::kResponseTooLargeCode) != std::string::npos);
}

TEST_CASE("list_all asks a page too large to read again in smaller pages",
          "[controller][kube][limits]") {
  struct Pager : byok::testing::FakeKubeClient {
    std::vector<int> limits;
    Result<kube::Json> list(const kube::ResourceType&, const std::string&,
                            const kube::ListOptions& o) override {
      limits.push_back(o.limit);
      if (o.limit > 100)
        return make_error(ErrorKind::Internal,
                          std::string("GET x: too big (") + kube::kResponseTooLargeCode + ")");
      int from = o.continue_token.empty() ? 0 : std::stoi(o.continue_token);
      kube::Json page{{"items", kube::Json::array()}, {"metadata", {{"resourceVersion", "7"}}}};
      for (int i = from; i < std::min(from + o.limit, 150); ++i) page["items"].push_back(i);
      if (from + o.limit < 150) page["metadata"]["continue"] = std::to_string(from + o.limit);
      return page;
    }
  } pager;
  auto all = kube::list_all(pager, byok::testing::widgets(), "ns", {});
  REQUIRE(all.ok());
  CHECK(all->items.size() == 150);
  CHECK(pager.limits == std::vector<int>{500, 250, 125, 62, 62, 62});
}

TEST_CASE("list_all gives up when even one object is too large", "[controller][kube][limits]") {
  struct Huge : byok::testing::FakeKubeClient {
    int calls = 0;
    Result<kube::Json> list(const kube::ResourceType&, const std::string&,
                            const kube::ListOptions&) override {
      ++calls;
      return make_error(ErrorKind::Internal, std::string("(") + kube::kResponseTooLargeCode + ")");
    }
  } huge;
  auto all = kube::list_all(huge, byok::testing::widgets(), "ns", {});
  REQUIRE_FALSE(all.ok());
  CHECK(huge.calls == 9);  // 500, 250, ... 1: bounded
}

TEST_CASE("a watch line decodes to its event, an ERROR to the error its Status means",
          "[controller][kube][limits]") {
  auto added =
      kube::decode_watch_event(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})", "W");
  REQUIRE(added.ok());
  CHECK(added->type == "ADDED");
  auto gone = kube::decode_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old"}})", "W");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().kind == ErrorKind::Gone);
  // A code that is no HTTP status, or none, reads as a server error.
  auto odd = kube::decode_watch_event(R"({"type":"ERROR","object":{"code":"x"}})", "W");
  REQUIRE_FALSE(odd.ok());
  CHECK(odd.error().kind == ErrorKind::Unavailable);
  for (const char* bad : {"[1]", "not json", R"({"type":1,"object":{}})", R"({"type":"ADDED"})"}) {
    INFO(bad);
    auto r = kube::decode_watch_event(bad, "W");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Internal);
  }
}
