#pragma once
// Process-wide allocator policy.

namespace fersweep {

// Makes glibc keep freed memory in the heap instead of returning it to the kernel, so that work
// repeated over and over (a training step's activations, a TPE suggestion's estimators over
// thousands of trials) does not map, fault in and zero its buffers again each time. The cost is
// holding the process's peak. Once per process; the worker and the coordinator call it.
void keep_freed_memory_for_reuse();

}  // namespace fersweep
