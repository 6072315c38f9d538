"""fersweep's heap policy (common/heap.cc, keep_freed_memory_for_reuse) for the Python scripts in
bench/ that time LibTorch kernels: every block stays in the heap and freed memory is kept, so a
large temporary is not mapped fresh and faulted in again on each pass. Import it before torch:
its allocations then follow the policy. Standard library only."""
import ctypes

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4  # glibc's mallopt parameters
LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallopt(M_MMAP_MAX, 0)
LIBC.mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024)
LIBC.mallopt(M_TOP_PAD, 64 * 1024 * 1024)
