#pragma once
// Configs and evidence from outside the sweep's own sampling: an earlier sweep's trials that seed
// a new sweep (spec "warm_start"), and configs a user enqueues (`fersweep run --enqueue FILE`).
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/store.h"
#include "search_spaces/spec.h"

namespace fersweep::coordinator {

// What an earlier sweep offers a new one.
struct WarmStartEvidence {
  std::vector<results::PriorTrial> trials;
  std::string summary;  // how many were kept, dropped, and why, for the run's log
};

// The finished, pruned and infeasible trials of the spec's warm_start sweep that fit this
// sweep's space, judged by this sweep's constraints: a config outside the space (a parameter
// missing, extra, or a value the space does not hold) is dropped, as is one missing an
// objective. InputError naming the spec file and warm_start.* for a database or sweep that is
// not there, or a sweep that recorded none of this sweep's objectives.
WarmStartEvidence load_warm_start(const search::SweepSpec& spec, const std::string& spec_path);

// The configs of an --enqueue file: a JSON list of (partial) configs, or one config. Each must
// fit the spec's space as initial_configs must; InputError naming the file and the entry.
std::vector<nlohmann::json> load_enqueue_file(const std::string& path,
                                              const search::SweepSpec& spec);

}  // namespace fersweep::coordinator
