#pragma once
// The files that hold a trial's training state, one per epoch, on the worker that trains it:
// `trial_<id>.r<run>.e<epoch>.state` in the assignment's state directory. Each is written under a
// temporary name and renamed in (one file: atomic), and its digest travels with the epoch's
// report, so the database records the state and the epoch in one transaction. Once the coordinator
// has acknowledged an epoch, the previous epoch's file goes. When the trial ends, the worker leaves
// the state the database names: the coordinator removes it once it has stored the trial's result,
// so a job killed in between still finds it and finishes the trial from it rather than training
// it again from the start.
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "common/trial.h"

namespace fersweep {

// FNV-1a over a file's bytes; nothing when it cannot be read.
std::optional<uint64_t> file_digest(const std::string& path);

// Removes every state file in `dir` of the trials `trial_ids` names, whatever run wrote it: what a
// kill left of trials that will not continue from it. Returns how many files went.
int remove_trial_states(const std::string& dir, const std::set<int64_t>& trial_ids);

// Population Based Training's exploit: a copy of another trial's state `from` as the state of
// `trial_id`'s run `run` after the same epoch, written under a temporary name and renamed in.
// Nothing when `from` cannot be read or is not what its digest says (the member then keeps its
// own weights).
std::optional<StateRef> copy_trial_state(const StateRef& from, const std::string& dir,
                                         int64_t trial_id, int run);

class TrialStateFiles {
 public:
  // Writes nothing when the assignment has no state directory.
  explicit TrialStateFiles(const TrialAssignment& assignment);
  ~TrialStateFiles() = default;
  TrialStateFiles(const TrialStateFiles&) = delete;
  TrialStateFiles& operator=(const TrialStateFiles&) = delete;

  bool enabled() const { return !dir_.empty(); }
  // Where the caller writes epoch `epoch`'s state before commit(): a temporary name.
  std::string temporary_path(int epoch) const;
  // Renames the written file into place and returns its reference for the epoch's report.
  StateRef commit(int epoch);
  // The coordinator stored the epoch with its state: the one before (or the earlier run's state
  // this run continued from) is no longer needed.
  void acknowledged(int epoch);

 private:
  std::string path(int epoch) const;
  std::string dir_;
  int64_t trial_id_;
  int run_;
  int last_ = 0;              // the newest committed epoch; 0: none
  int previous_ = 0;          // the one before, until acknowledged
  std::string resumed_from_;  // an earlier run's state this run continued from, until superseded
};

}  // namespace fersweep
