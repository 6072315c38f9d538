// fersweep: sweeps facial-emotion recognition networks over an MPI cluster.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/text.h"

namespace fersweep::cli {

const char* const kMainHelp = R"(usage: fersweep <command> [options]

Sweeps architectures and hyperparameters of facial-emotion recognition networks.

commands:
  run SPEC --db DB       run the sweep described by the JSON spec file SPEC, storing everything
                         in the SQLite database DB; launch with `mpirun -n N` for N-1 workers
  results --db DB ...    rank, list, show, compare, export, report (`fersweep results --help`)
  models                 parameters, FLOPs, memory and step time of every architecture
  data synth|inspect     write synthetic faces in a real format; count what a spec loads
  export-model           write a trial's best model (default: the sweep's best) as one file
  predict --model M IMG  the emotion distribution of image files under an exported model
  serve --db DB          a live dashboard of DB's sweeps over HTTP (`fersweep serve --help`)

options:
  -h, --help             this help; `fersweep <command> --help` for a command's
  --version              print the version

Exit codes: 0 success, 1 failure (internal, environment, or a sweep that ended with no finished
trial), 2 bad input (spec, data, CLI, DB), 128 + N stopped by signal N.
)";

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace fersweep::cli

int main(int argc, char** argv) {
  using namespace fersweep;
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) {
      std::fputs(cli::kMainHelp, stderr);
      return kExitInputError;
    }
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "--help" || command == "-h" || command == "help") {
      std::fputs(cli::kMainHelp, stdout);
      return 0;
    }
    if (command == "--version") {
      fmt::print("fersweep {}\n", FERSWEEP_VERSION);
      return 0;
    }
    if (command == "run") return cli::run_command(argc, argv, rest);
    if (command == "results") return cli::results_command(rest);
    if (command == "models") return cli::models_command(rest);
    if (command == "data") return cli::data_command(rest);
    if (command == "export-model") return cli::export_model_command(rest);
    if (command == "predict") return cli::predict_command(rest);
    if (command == "serve") return cli::serve_command(rest);
    throw InputError(fmt::format("unknown command \"{}\" (see fersweep --help)", command));
  } catch (const InputError& e) {
    fmt::print(stderr, "fersweep: {}\n", terminal_text(e.what()));
    return kExitInputError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "fersweep: error: {}\n", terminal_text(e.what()));
    return kExitFailure;
  }
}
