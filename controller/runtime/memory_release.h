#pragma once
// Gives the allocator's free pages back to the system after a burst of work.
//
// glibc keeps what a burst of reconciles freed (in each worker thread's arena, and in holes
// below each arena's top) until told otherwise, so without this the resident size after a burst
// stays near its peak although the objects it parsed are gone. A controller calls this when its
// queue runs empty; the call trims at most once per `every`, process-wide, so a queue that
// empties often costs nothing more.

#include <chrono>

namespace byok::runtime {

// Call first thing in main(), before any thread starts: at most two malloc arenas instead of
// glibc's eight per core. Each arena keeps its own free space; the operator's threads mostly wait
// on the network, so fewer arenas cost no throughput and keep less memory idle (measured with
// 1,000 CMKs: 3.9 KB per object with two, 4.9 KB with the default).
void limit_malloc_arenas();

// Returns whether it trimmed now (false: too soon after the last time).
bool release_free_memory(std::chrono::milliseconds every = std::chrono::seconds(1));

}  // namespace byok::runtime
