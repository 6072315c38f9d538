// The allocator policy the worker and coordinator run under: a block far above glibc's largest
// mmap threshold (32 MiB), freed and asked for again, comes back without the kernel faulting its
// pages in anew, as a training step's activations are each step.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "common/heap.h"

namespace fersweep {
namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults taken to allocate, fill and free `bytes`.
long faults_to_use(size_t bytes) {
  const long before = minor_faults();
  auto* block = static_cast<char*>(std::malloc(bytes));
  std::memset(block, 1, bytes);
  // The compiler may drop a malloc, fill and free it sees nothing read: this says memory is read.
  asm volatile("" : : "r"(block) : "memory");
  std::free(block);
  return minor_faults() - before;
}

TEST(Heap, LargeBlocksAreReusedWithoutFaultingTheirPagesAgain) {
  keep_freed_memory_for_reuse();
  constexpr size_t kBytes = 96u << 20;  // three times glibc's largest mmap threshold
  const long pages = static_cast<long>(kBytes / static_cast<size_t>(getpagesize()));
  faults_to_use(kBytes);  // the heap grows to hold it once
  const long again = faults_to_use(kBytes);
  // An mmap'd block would fault every page in again: `pages` faults (24,576 at 4 KiB).
  EXPECT_LT(again, pages / 10) << again << " faults for " << pages << " pages";
}

}  // namespace
}  // namespace fersweep
