#include "controller/runtime/memory_release.h"

#include <atomic>

#include <malloc.h>

namespace byok::runtime {

void limit_malloc_arenas() { mallopt(M_ARENA_MAX, 2); }

bool release_free_memory(std::chrono::milliseconds every) {
  using Clock = std::chrono::steady_clock;
  static std::atomic<Clock::rep> last{0};
  const Clock::rep now = Clock::now().time_since_epoch().count();
  Clock::rep seen = last.load();
  const Clock::rep gap = std::chrono::duration_cast<Clock::duration>(every).count();
  if (seen != 0 && now - seen < gap) return false;
  if (!last.compare_exchange_strong(seen, now)) return false;  // another thread is trimming
  malloc_trim(0);
  return true;
}

}  // namespace byok::runtime
