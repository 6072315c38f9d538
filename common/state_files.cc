#include "common/state_files.h"

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

namespace fersweep {

namespace fs = std::filesystem;

std::optional<uint64_t> file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  uint64_t hash = 0xcbf29ce484222325ULL;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash = (hash ^ static_cast<uint8_t>(buffer[i])) * 0x100000001b3ULL;
    }
  }
  return hash;
}

namespace {

// The trial and run of a state file's name, trial_<id>.r<run>.e<epoch>.state[.tmp].
std::optional<std::pair<int64_t, int>> trial_and_run(const std::string& name) {
  constexpr std::string_view kPrefix = "trial_";
  if (!name.starts_with(kPrefix) || name.find(".state") == std::string::npos) return std::nullopt;
  const char* at = name.data() + kPrefix.size();
  const char* end = name.data() + name.size();
  int64_t trial = 0;
  int run = 0;
  auto [after_trial, trial_error] = std::from_chars(at, end, trial);
  if (trial_error != std::errc() || end - after_trial < 2 ||
      std::string_view(after_trial, 2) != ".r")
    return std::nullopt;
  auto [after_run, run_error] = std::from_chars(after_trial + 2, end, run);
  if (run_error != std::errc() || after_run == end || *after_run != '.') return std::nullopt;
  return std::pair{trial, run};
}

std::string state_file_name(int64_t trial_id, int run, int epoch) {
  return fmt::format("trial_{:06d}.r{}.e{:04d}.state", trial_id, run, epoch);
}

}  // namespace

std::optional<StateRef> copy_trial_state(const StateRef& from, const std::string& dir,
                                         int64_t trial_id, int run) {
  if (file_digest(from.path) != from.digest) return std::nullopt;
  const fs::path to = fs::path(dir) / state_file_name(trial_id, run, from.epoch);
  const fs::path temporary = to.string() + ".tmp";
  std::error_code error;
  fs::copy_file(from.path, temporary, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(temporary, to, error);
  if (error) {
    throw std::runtime_error(fmt::format("training state: cannot copy {} to {}: {}", from.path,
                                         to.string(), error.message()));
  }
  // Read back: the copy must be the bytes the parent's digest vouches for.
  if (file_digest(to.string()) != from.digest) {
    fs::remove(to, error);
    return std::nullopt;
  }
  return StateRef{fs::absolute(to).string(), from.epoch, from.digest};
}

int remove_trial_states(const std::string& dir, const std::set<int64_t>& trial_ids) {
  int removed = 0;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    const auto owner = trial_and_run(entry.path().filename().string());
    if (owner && trial_ids.contains(owner->first) && fs::remove(entry.path(), ignored)) ++removed;
  }
  return removed;
}

TrialStateFiles::TrialStateFiles(const TrialAssignment& a)
    : dir_(a.state_dir), trial_id_(a.trial_id), run_(a.run), resumed_from_(a.resume.path) {
  if (!enabled()) return;
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    throw std::runtime_error(
        fmt::format("training state: cannot create directory {}: {}", dir_, error.message()));
  }
}

std::string TrialStateFiles::path(int epoch) const {
  return (fs::path(dir_) / state_file_name(trial_id_, run_, epoch)).string();
}

std::string TrialStateFiles::temporary_path(int epoch) const {
  return path(epoch) + ".tmp";
}

StateRef TrialStateFiles::commit(int epoch) {
  const std::string final_path = path(epoch);
  std::error_code error;
  fs::rename(temporary_path(epoch), final_path, error);
  if (error) {
    throw std::runtime_error(fmt::format("training state: cannot rename {} into place: {}",
                                         temporary_path(epoch), error.message()));
  }
  const std::optional<uint64_t> digest = file_digest(final_path);
  if (!digest) throw std::runtime_error("training state: cannot read back " + final_path);
  if (previous_ > 0) fs::remove(path(previous_), error);  // never acknowledged: superseded
  previous_ = last_;
  last_ = epoch;
  return {fs::absolute(final_path).string(), epoch, *digest};
}

void TrialStateFiles::acknowledged(int epoch) {
  if (epoch != last_) return;
  std::error_code ignored;
  if (previous_ > 0) fs::remove(path(previous_), ignored);
  previous_ = 0;
  if (!resumed_from_.empty()) fs::remove(resumed_from_, ignored);
  resumed_from_.clear();
}

}  // namespace fersweep
