#pragma once
// What the fuzz targets share: a clock that sleeping advances (retry and poll loops end), and a
// transport that plays answers made from the fuzzer's bytes.

#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "common/clock.h"
#include "kms/http_transport.h"
#include "kms/retry.h"

namespace byok::fuzz {

class AdvancingClock final : public Clock {
 public:
  SystemTime now() const override {
    return SystemTime{std::chrono::seconds(1'780'000'000)} + elapsed;
  }
  SteadyTime steady_now() const override { return SteadyTime{} + elapsed; }
  std::chrono::milliseconds elapsed{0};
};

inline kms::RetryEnvironment no_wait(AdvancingClock& clock) {
  return kms::RetryEnvironment{[&clock](std::chrono::milliseconds d) { clock.elapsed += d; },
                               [] { return 0.5; }};
}

// Each request gets an answer cut from the input: a status from the set KMSs use, a few headers a
// client may read, and a body. After 32 requests, or when the input is spent, the network is
// down (Unavailable), so every loop in a client meets its end.
class PlayedTransport final : public kms::HttpTransport {
 public:
  explicit PlayedTransport(FuzzedDataProvider& in) : in_(in) {}
  Result<kms::HttpResponse> send(const kms::HttpRequest&) override {
    if (++requests_ > 32 || in_.remaining_bytes() == 0)
      return make_error(ErrorKind::Unavailable, "played out");
    kms::HttpResponse r;
    r.status = in_.PickValueInArray(
        {200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 410, 412, 429, 500, 503, 302, 0, 999});
    if (in_.ConsumeBool()) r.headers.emplace_back("Retry-After", in_.ConsumeRandomLengthString(16));
    if (in_.ConsumeBool())
      r.headers.emplace_back(in_.PickValueInArray({"x-amzn-ErrorType", "WWW-Authenticate",
                                                   "opc-next-page", "Content-Type", "Location"}),
                             in_.ConsumeRandomLengthString(64));
    r.body = in_.ConsumeRandomLengthString(16 * 1024);
    return r;
  }

 private:
  FuzzedDataProvider& in_;
  int requests_ = 0;
};

}  // namespace byok::fuzz
