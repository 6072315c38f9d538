#include "common/heap.h"

#include <malloc.h>

#include <mutex>

namespace fersweep {

// glibc serves every block over its mmap threshold with a fresh mmap and unmaps it on free, so
// the kernel faults in and zeroes it again at the next step: 12 % of a modified-VGG trial's time,
// and about a fifth of a TPE suggestion's at 10,000 trials. Raising the threshold stops at
// glibc's 32 MiB, and a batch of 64 at 48 px makes larger activations in most networks
// (64 channels at 48x48 is 36 MiB): with them, ResNet-50 (small stem) spent four fifths of a step
// faulting (38 s against 7.3 s without mmap; docs/BENCHMARKS.md). So no block comes from mmap.
void keep_freed_memory_for_reuse() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_MAX, 0);                         // every block from the heap, reused once freed
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);  // never give the top of the heap back
    mallopt(M_TOP_PAD, 64 * 1024 * 1024);           // grow the heap in large steps
  });
}

}  // namespace fersweep
