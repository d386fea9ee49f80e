// The apiserver's watch stream as the kube client frames and decodes it: chunks of any size, lines
// of any content, ERROR events with any Status.
#include <fuzzer/FuzzedDataProvider.h>

#include "common/line_framer.h"
#include "controller/kube/rest_client.h"

using namespace byok;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  LineFramer framer(in.ConsumeIntegralInRange<size_t>(1, 4096));
  while (in.remaining_bytes() > 0) {
    std::string chunk = in.ConsumeRandomLengthString(8192);
    auto fed = framer.feed(chunk, [](std::string& line) {
      (void)kube::decode_watch_event(line, "WATCH");
      return true;
    });
    if (!fed) break;
  }
  (void)kube::error_from_http(in.ConsumeIntegral<int>(),
                              std::string(reinterpret_cast<const char*>(data), size), "GET");
  return 0;
}
