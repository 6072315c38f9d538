#include "common/heap.h"

#include <malloc.h>

#include <mutex>

namespace fersweep {

// glibc serves every block over its mmap threshold (at most 32 MiB, adapting) with a fresh mmap
// and returns it on free: 12 % of a modified-VGG trial's time, and about a fifth of a TPE
// suggestion's at 10,000 trials, was the kernel's page-fault path (docs/BENCHMARKS.md).
void keep_freed_memory_for_reuse() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);    // glibc's largest: blocks below from the heap
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);  // never give the top of the heap back
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);           // grow the heap in large steps
  });
}

}  // namespace fersweep
