#pragma once
// The runtimes outside fersweep that its ONNX models are checked in: onnxruntime (the npm
// package onnxruntime-node, driven by tests/onnxruntime/run_model.js) and the ONNX project's own
// checker in Python (Debian's python3-onnx). cluster/install-deps.sh installs both; a test that
// finds one missing fails and says so.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/command_line.h"

namespace fersweep::onnx_runtimes {

struct RunResult {
  std::string error;  // empty on success: the command line and what it printed otherwise
  std::vector<int64_t> dims;
  std::vector<float> logits, probabilities;
  std::vector<std::string> inputs, outputs;
};

// Runs `model` in onnxruntime on float pixels of shape `dims`; `scratch` is a file stem.
inline RunResult run_in_onnxruntime(const std::string& model, const std::vector<int64_t>& dims,
                                    const std::vector<float>& pixels, const std::string& scratch) {
  RunResult result;
  const std::string script = std::string(ONNXRUNTIME_DIR) + "/run_model.js";
  if (!std::filesystem::exists(std::string(ONNXRUNTIME_DIR) + "/node_modules/onnxruntime-node")) {
    result.error = "onnxruntime-node is not installed under " + std::string(ONNXRUNTIME_DIR) +
                   " (cluster/install-deps.sh installs it)";
    return result;
  }
  const std::string input = scratch + ".input.json", output = scratch + ".output.json";
  std::ofstream(input) << nlohmann::json{{"dims", dims}, {"pixels", pixels}}.dump();
  const std::string command = "node " + script + " " + model + " " + input + " " + output;
  const testing_command::CommandResult ran = testing_command::run_command(command);
  if (ran.exit_code != 0) {
    result.error = command + ": exit " + std::to_string(ran.exit_code) + ": " + ran.output;
    return result;
  }
  const nlohmann::json out = nlohmann::json::parse(std::ifstream(output));
  out.at("dims").get_to(result.dims);
  out.at("logits").get_to(result.logits);
  out.at("probabilities").get_to(result.probabilities);
  out.at("inputs").get_to(result.inputs);
  out.at("outputs").get_to(result.outputs);
  return result;
}

// onnx.checker.check_model with full_check (shape inference too), in Debian's Python and its onnx
// package (/usr/bin/python3: a python3 earlier on PATH may lack it): an
// implementation of the checker other than the C++ one the exporter already ran. Empty when it
// passes, else what it printed.
inline std::string python_onnx_check(const std::string& model) {
  const testing_command::CommandResult ran = testing_command::run_command(
      "/usr/bin/python3 -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
      "full_check=True); print(\"ok\")' " +
      model);
  return ran.exit_code == 0 && ran.output == "ok\n" ? "" : ran.output;
}

}  // namespace fersweep::onnx_runtimes
