#pragma once
// SIGTERM and SIGINT ask a sweep to stop: Slurm sends SIGTERM before a job's time limit (and on
// scancel or preemption), Ctrl-C sends SIGINT. The coordinating process records the signal and
// winds the sweep down (docs/RELIABILITY.md); a second signal kills it at once.
namespace fersweep {

// In the coordinating process, once.
void install_stop_handlers();
// In training ranks: the coordinator decides when they stop.
void ignore_stop_signals();
// The signal that asked to stop, 0 while none has.
int stop_signal();
// The same as a signal arriving, for tests.
void request_stop(int signal_number);

}  // namespace fersweep
