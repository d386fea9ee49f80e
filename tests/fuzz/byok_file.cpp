// The Azure .byok transfer blob (byokctl and offline-wrapped ImportedKeys read it).
#include <string_view>

#include "kms/azure/byok_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)byok::kms::azure::parse_byok_file(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
