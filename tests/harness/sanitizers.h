#pragma once
// Whether this test binary runs under AddressSanitizer, whose allocator replaces glibc's (tests
// that measure the allocator or rely on its behaviour check this). GCC defines
// __SANITIZE_ADDRESS__; clang answers __has_feature(address_sanitizer).

namespace byok::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace byok::testing
